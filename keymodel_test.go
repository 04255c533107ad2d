package llmretry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// modelRequest is a chat request for model, its "model" after its messages
// (as openai-go writes it), on the key post uses.
func modelRequest(ctx context.Context, url, model string) *http.Request {
	body := `{"messages":[{"role":"user","content":"Hello"}],"model":"` + model + `","max_tokens":16}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	return req
}

// rateLimitedFor is the 429 of one model's limit, with Retry-After: 5.
func rateLimitedFor() llmretrytest.Step { return llmretrytest.Dialect("openai").RateLimit(5) }

// Providers limit each model on a key separately: with nothing configured,
// one model's 429 and the pause it asks for do not hold another model's
// requests on the same key (issue 20: model B's p50 was 2.6 s behind model
// A's 429s, 21 ms without llmretry). Model A's own requests still wait.
func TestPacingKeyPerModel(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, nil)
	srv.EnqueueModel("model-a", rateLimitedFor())
	resp, _, err := do(t, tr, modelRequest(sendOnce(bg()), srv.URL, "model-a"))
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("model A: %v, %v; want its 429", resp, err)
	}
	start, waited := ft.Now(), len(ft.Waits())
	for i := 0; i < 3; i++ {
		if resp, _, err := do(t, tr, modelRequest(bg(), srv.URL, "model-b")); err != nil || resp.StatusCode != 200 {
			t.Fatalf("model B: %v, %v", resp, err)
		}
	}
	if w := ft.Waits()[waited:]; len(w) != 0 || !ft.Now().Equal(start) {
		t.Errorf("model B waited %v (%v in all) behind model A's pause, want no wait", w, ft.Now().Sub(start))
	}
	if resp, _, err := do(t, tr, modelRequest(bg(), srv.URL, "model-a")); err != nil || resp.StatusCode != 200 {
		t.Fatalf("model A again: %v, %v", resp, err)
	}
	if d := ft.Now().Sub(start); d < 4*time.Second {
		t.Errorf("model A's next request went after %v, want it held by its pause (Retry-After: 5)", d)
	}
	pol := tr.policyFor(modelRequest(bg(), srv.URL, "x"), requestOptions{})
	if pacerOf(tr, pol, modelRequest(bg(), srv.URL, "model-a")) == pacerOf(tr, pol, modelRequest(bg(), srv.URL, "model-b")) {
		t.Error("two models share one pacing state")
	}
}

// With a configured limit, the key is what the operator said it allows, for
// all its models: they share one pace, and one model's pause holds them all.
func TestPacingKeyConfiguredSharedByModels(t *testing.T) {
	t.Parallel()
	pol := genericPolicy()
	pol.Limits = Limits{RequestsPerMinute: 60, RequestBurst: 1}
	tr, srv, ft := setup(t, pol)
	for _, m := range []string{"model-a", "model-b"} {
		if _, _, err := do(t, tr, modelRequest(bg(), srv.URL, m)); err != nil {
			t.Fatal(err)
		}
	}
	if w := ft.Waits(); len(w) != 1 || w[0] < 900*time.Millisecond {
		t.Errorf("two models at 60/min configured: waits %v, want one of about a second (one pace)", w)
	}
	srv.EnqueueModel("model-a", rateLimitedFor())
	if resp, _, err := do(t, tr, modelRequest(sendOnce(bg()), srv.URL, "model-a")); err != nil || resp.StatusCode != 429 {
		t.Fatalf("model A: %v, %v; want its 429", resp, err)
	}
	start := ft.Now()
	if _, _, err := do(t, tr, modelRequest(bg(), srv.URL, "model-b")); err != nil {
		t.Fatal(err)
	}
	if d := ft.Now().Sub(start); d < 4*time.Second {
		t.Errorf("model B went %v after model A's Retry-After: 5 on a configured key, want it held", d)
	}
	a, b := pacerOf(tr, pol, modelRequest(bg(), srv.URL, "model-a")), pacerOf(tr, pol, modelRequest(bg(), srv.URL, "model-b"))
	if a != b || strings.Contains(a.key, "model") {
		t.Errorf("configured key: pacers %p and %p, key %q; want one, naming no model", a, b, a.key)
	}
}

// keyRecorder is a Limiter that records the keys it is given.
type keyRecorder struct {
	mu   sync.Mutex
	keys []string
}

func (l *keyRecorder) note(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.keys, key) {
		l.keys = append(l.keys, key)
	}
}
func (l *keyRecorder) Wait(_ context.Context, key string, _ Pace, _ int) error {
	l.note(key)
	return nil
}
func (l *keyRecorder) Pause(_ context.Context, key string, _ time.Time) error {
	l.note(key)
	return nil
}

// The key a Limiter (redislimit: shared by processes) is given names the
// model, the same in every process, and never holds the credential.
func TestPacingKeyNamesModelNotCredential(t *testing.T) {
	t.Parallel()
	lim := &keyRecorder{}
	tr, srv, _ := setup(t, &Policy{Name: "p", Limits: Limits{Limiter: lim}})
	srv.EnqueueModel("model-a", rateLimitedFor())
	for _, m := range []string{"model-a", "model-b"} {
		if _, _, err := do(t, tr, modelRequest(sendOnce(bg()), srv.URL, m)); err != nil {
			t.Fatal(err)
		}
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	want := []string{pacingKey(&Policy{Name: "p"}, host, "Bearer sk-test-secret-key-1234", "") + ":model-a",
		pacingKey(&Policy{Name: "p"}, host, "Bearer sk-test-secret-key-1234", "") + ":model-b"}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if !slices.Equal(lim.keys, want) {
		t.Errorf("the Limiter's keys are %q, want %q", lim.keys, want)
	}
	for _, k := range lim.keys {
		if strings.Contains(k, "sk-test") || strings.Contains(k, "secret") {
			t.Errorf("key %q holds the credential", k)
		}
	}
}

// Where the body names no model, the URL path does: Gemini's and Vertex
// AI's models/<model>:<method>, Bedrock's /model/<id>/<operation>, Azure
// OpenAI's deployments/<name>. A model in the body wins.
func TestPacingKeyModelFromPath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, want string }{
		{"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", "gemini-2.5-flash"},
		{"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "gemini-2.5-flash"},
		{"https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", "gemini-2.5-pro"},
		{"https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke", "anthropic.claude-3-5-sonnet-20240620-v1:0"},
		{"https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse-stream", "anthropic.claude-3-5-sonnet-20240620-v1:0"},
		{"https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.anthropic.claude/converse", "arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.anthropic.claude"},
		{"https://r.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21", "gpt4o-prod"},
		{"https://api.openai.com/v1/chat/completions", ""},
	} {
		u, _ := url.Parse(tt.url)
		if got := pathModel(u); got != tt.want {
			t.Errorf("%s: model %q, want %q", tt.url, got, tt.want)
		}
	}
	tr := &Transport{}
	pol := geminiPolicy()
	get := func(u, body string) *pacer {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
		req.Header.Set("X-Goog-Api-Key", "AIzaKeyNumberOne1")
		return pacerOf(tr, pol, req)
	}
	const base = "https://generativelanguage.googleapis.com/v1beta/models/"
	flash, pro := get(base+"gemini-2.5-flash:generateContent", `{"contents":[]}`), get(base+"gemini-2.5-pro:generateContent", `{"contents":[]}`)
	if flash == pro || !strings.HasSuffix(flash.key, ":gemini-2.5-flash") {
		t.Errorf("two Gemini models in the path: keys %q and %q", flash.key, pro.key)
	}
	if get(base+"gemini-2.5-flash:streamGenerateContent", `{}`) != flash {
		t.Error("one model, two methods: two pacing states")
	}
	if b := get(base+"gemini-2.5-pro:generateContent", `{"model":"gemini-2.5-flash"}`); b != flash {
		t.Errorf("the body's model does not win over the path's: key %q", b.key)
	}
}

// A fallback that rewrites the model, and pool targets naming models of
// their own, each get the key of the model they send.
func TestPacingKeyFollowsTargetModel(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	var mu sync.Mutex
	keys := map[string]string{} // the model answered -> the key of its attempt
	srv.EchoModel()
	tr.Observer = &Observer{AttemptEnd: func(a AttemptInfo, _ *http.Response) {
		mu.Lock()
		defer mu.Unlock()
		keys[a.Target] = a.Key
	}}
	pol := genericPolicy()
	pol.Name = "fb"
	pol.FallbackOnRateLimit = true
	pol.Fallbacks = []Target{{Name: "small", Model: "model-small", Policy: pol}}
	tr.Policy = pol
	srv.EnqueueModel("model-a", rateLimitedFor())
	if resp, _, err := do(t, tr, modelRequest(WithMaxRetries(bg(), 0), srv.URL, "model-a")); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v, %v: want the fallback's answer", resp, err)
	}
	mu.Lock()
	primary, small := keys[""], keys["small"]
	mu.Unlock()
	if !strings.HasSuffix(primary, ":model-a") || !strings.HasSuffix(small, ":model-small") {
		t.Errorf("keys: primary %q, fallback %q; want each naming its model", primary, small)
	}

	pool := &Policy{Name: "pool"}
	pool.Pool = []Target{{Name: "x", Model: "model-x"}, {Name: "y", Model: "model-y"}, {Name: "same"}}
	tr.Policy = pool
	c, err := tr.start(modelRequest(bg(), srv.URL, "model-a"))
	if err != nil {
		t.Fatal(err)
	}
	closeBody(c.body.first)
	var got []string
	for _, m := range c.members {
		got = append(got, m.pacer.key[strings.LastIndexByte(m.pacer.key, ':')+1:])
	}
	if want := []string{"model-x", "model-y", "model-a"}; !slices.Equal(got, want) {
		t.Errorf("pool targets' keys name %q, want %q", got, want)
	}
}

// Reading the model for the pacing key costs no allocation on the 2xx path:
// a body from http.NewRequest (a strings, bytes or buffer reader) is scanned
// in place, its model hashed, and the pacer found by its hash; with a
// first-token timeout, the same scan finds "stream": true.
func TestPacingKeyModelAllocatesNothing(t *testing.T) {
	tr := &Transport{}
	for _, firstToken := range []time.Duration{0, time.Second} {
		pol := genericPolicy()
		pol.FirstTokenTimeout = firstToken
		body := `{"messages":[{"role":"user","content":"` + strings.Repeat("word ", 2000) + `"}],"model":"gpt-4o-mini","stream":true}`
		for _, r := range []func() io.Reader{
			func() io.Reader { return strings.NewReader(body) },
			func() io.Reader { return bytes.NewReader([]byte(body)) },
			func() io.Reader { return bytes.NewBufferString(body) },
		} {
			req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", r())
			req.Header.Set("Authorization", "Bearer sk-test")
			rt := route{req: req, pol: pol}
			tr.setup(&rt, req.GetBody, requestOptions{}, req.Body)
			if !strings.HasSuffix(rt.pacer.key, ":gpt-4o-mini") || rt.bounds.stream != (firstToken > 0) {
				t.Fatalf("%T: key %q, stream %v", req.Body, rt.pacer.key, rt.bounds.stream)
			}
			if n := testing.AllocsPerRun(100, func() { tr.setup(&rt, req.GetBody, requestOptions{}, req.Body) }); n != 0 {
				t.Errorf("%T, first-token timeout %v: setup allocates %v times, want 0", req.Body, firstToken, n)
			}
		}
	}
}

// A model name longer than a scan keeps is named in the key by its start
// and a hash of the whole, the same in every process; names differing only
// past the start get keys of their own.
func TestPacingKeyLongModel(t *testing.T) {
	t.Parallel()
	tr := &Transport{}
	pol := genericPolicy()
	long := strings.Repeat("m", 300)
	key := func(model string) string {
		req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", strings.NewReader(`{"model":"`+model+`"}`))
		return pacerOf(tr, pol, req).key
	}
	a, b := key(long+"a"), key(long+"b")
	if a == b || len(a) > 200 || a != key(long+"a") || !strings.Contains(a, ":"+strings.Repeat("m", 100)) {
		t.Errorf("long names: keys %q and %q", a, b)
	}
	if k := key("bad\x01name"); !strings.HasSuffix(k, ":bad_name") {
		t.Errorf("a control character in a name: key %q", k)
	}
}

// BenchmarkSetupModel measures what reading the model costs a request's
// setup: zero config (the body scanned, the model hashed) against a
// configured limit (no scan), for openai-go's small chat body and a 64 KiB
// prompt.
//
//	go test -run '^$' -bench SetupModel -benchmem .
func BenchmarkSetupModel(b *testing.B) {
	for _, size := range []int{0, 64 << 10} {
		body := `{"messages":[{"role":"user","content":"Hello` + strings.Repeat(" word", size/5) + `"}],"model":"gpt-4o-mini","max_tokens":16}`
		for _, tc := range []struct {
			name   string
			limits Limits
		}{{"key=model", Limits{}}, {"key=configured", Limits{RequestsPerMinute: 1e9}}} {
			b.Run(fmt.Sprintf("%s/body=%d", tc.name, len(body)), func(b *testing.B) {
				tr := &Transport{}
				pol := genericPolicy()
				pol.Limits = tc.limits
				req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer sk-test")
				rt := route{req: req, pol: pol}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					tr.setup(&rt, req.GetBody, requestOptions{}, req.Body)
				}
			})
		}
	}
}
