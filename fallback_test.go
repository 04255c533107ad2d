package llmretry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

const largeBody = `{"model":"gob-large","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}`

// attempts records the attempts an Observer is told of.
type attempts struct {
	mu  sync.Mutex // guards all
	all []AttemptInfo
}

func (a *attempts) hook(i AttemptInfo) { a.mu.Lock(); a.all = append(a.all, i); a.mu.Unlock() }

// trail is "decision@target" for every attempt, e.g. "fallback@ success@gob-small".
func (a *attempts) trail() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s []string
	for _, i := range a.all {
		s = append(s, i.Decision.String()+"@"+i.Target)
	}
	return strings.Join(s, " ")
}

func postBody(t *testing.T, tr http.RoundTripper, url, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-primary-secret-0001")
	return do(t, tr, req)
}

func TestFallbackModel(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	ratelimit := gob.RateLimit(30)
	serverErr := gob.ServerError()
	badRequest := gob.Error(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Code: "invalid_mining_depth"})
	tests := []struct {
		name      string
		on        fallbackTrigger
		models    map[string][]llmretrytest.Step
		wantTrail string
		wantModel string // the model that answered, as the answer names it
		wantWaits []time.Duration
	}{
		{"horde_unavailable falls back at once (gptgob.md: Specific model tier overloaded — try a different one)", 0,
			map[string][]llmretrytest.Step{"gob-large": {gob.Overloaded(5)}},
			"fallback@ success@gob-small", "gob-small", nil},
		{"a fallback that is itself overloaded passes on to the next", 0,
			map[string][]llmretrytest.Step{"gob-large": {gob.Overloaded(0)}, "gob-small": {gob.Overloaded(0)}},
			"fallback@ fallback@gob-small success@gob-tiny", "gob-tiny", nil},
		{"the last target is retried by its own policy", 0,
			map[string][]llmretrytest.Step{"gob-large": {gob.Overloaded(0)}, "gob-small": {gob.Overloaded(0)}, "gob-tiny": {gob.Overloaded(2)}},
			"fallback@ fallback@gob-small retry@gob-tiny success@gob-tiny", "gob-tiny", []time.Duration{2 * time.Second}},
		{"every target overloaded: the last answer is returned", 0,
			map[string][]llmretrytest.Step{"gob-large": {gob.Overloaded(0)}, "gob-small": {gob.Overloaded(0)}, "gob-tiny": {gob.Overloaded(0), gob.Overloaded(0), gob.Overloaded(0)}},
			"fallback@ fallback@gob-small retry@gob-tiny retry@gob-tiny retries_exhausted@gob-tiny", "", []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}},
		{"a rate limit waits on the same model by default", 0,
			map[string][]llmretrytest.Step{"gob-large": {ratelimit}},
			"retry@ success@", "gob-large", []time.Duration{30 * time.Second}},
		{"FallbackOnRateLimit falls back instead of waiting", fallbackOnRateLimit,
			map[string][]llmretrytest.Step{"gob-large": {ratelimit}},
			"fallback@ success@gob-small", "gob-small", nil},
		{"FallbackOnRateLimit keeps the overload fallback", fallbackOnRateLimit,
			map[string][]llmretrytest.Step{"gob-large": {gob.Overloaded(1)}},
			"fallback@ success@gob-small", "gob-small", nil},
		{"a server error is retried, not a reason to fall back", 0,
			map[string][]llmretrytest.Step{"gob-large": {serverErr, serverErr, serverErr}},
			"retry@ retry@ retries_exhausted@", "", []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}},
		{"FallbackOnExhausted falls back when retries end", fallbackOnExhausted,
			map[string][]llmretrytest.Step{"gob-large": {serverErr, serverErr, serverErr}},
			"retry@ retry@ fallback@ success@gob-small", "gob-small", []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}},
		{"FallbackOnExhausted keeps the overload fallback", fallbackOnExhausted,
			map[string][]llmretrytest.Step{"gob-large": {gob.Overloaded(0)}},
			"fallback@ success@gob-small", "gob-small", nil},
		{"a final error does not fall back", fallbackOnRateLimit | fallbackOnExhausted,
			map[string][]llmretrytest.Step{"gob-large": {badRequest}},
			"not_retryable@", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := gptGobPolicy()
			pol.Fallbacks = []Target{{Model: "gob-small"}, {Model: "gob-tiny"}}
			pol.FallbackOnRateLimit = tt.on.has(fallbackOnRateLimit)
			pol.FallbackOnExhausted = tt.on.has(fallbackOnExhausted)
			tr, srv, ft := setup(t, pol)
			srv.EchoModel()
			var at attempts
			tr.Observer = onAttempt(at.hook)
			for m, steps := range tt.models {
				srv.EnqueueModel(m, steps...)
			}
			resp, body, err := postBody(t, tr, srv.URL, largeBody)
			if err != nil {
				t.Fatal(err)
			}
			if got := at.trail(); got != tt.wantTrail {
				t.Errorf("attempts: %s\nwant:     %s", got, tt.wantTrail)
			}
			if tt.wantModel != "" {
				if want := string(llmretrytest.WithModel(llmretrytest.Completion, tt.wantModel)); resp.StatusCode != 200 || string(body) != want {
					t.Errorf("answer %d %s, want the completion of %s", resp.StatusCode, body, tt.wantModel)
				}
			} else if resp.StatusCode < 400 {
				t.Errorf("status %d, want the last error", resp.StatusCode)
			}
			if got := ft.Waits(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits %v, want %v", got, tt.wantWaits)
			}
			// Every attempt sent the caller's bytes, with only the model changed.
			for _, r := range srv.Requests() {
				want := strings.Replace(largeBody, `"gob-large"`, `"`+r.Model+`"`, 1)
				if r.BodyHash != hash(want) || r.Header.Get("Authorization") != "Bearer sk-primary-secret-0001" {
					t.Errorf("request for %s: body or credential changed beyond the model", r.Model)
				}
			}
		})
	}
}

func TestFallbackStream(t *testing.T) {
	t.Parallel()
	gob, cen := llmretrytest.Dialect("gptgob"), llmretrytest.Dialect("cencori")
	body := `{"model":"gob-large","messages":[{"role":"user","content":"Hello"}],"stream":true}`
	for _, tt := range []struct {
		name string
		pol  *Policy
		step llmretrytest.Step
	}{
		{"GPT-Gob 503 horde_unavailable before the stream", gptGobPolicy(), gob.Overloaded(0)},
		{"GPT-Gob horde_unavailable as the first event", gptGobPolicy(),
			gob.StreamError(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "horde_unavailable", Message: "the horde is busy. try another tier."}, 0)},
		{"Cencori PROVIDER_ERROR as the first event (cencori.md: try a different model/provider)", cencoriPolicy(), cen.AbortedStream(0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.pol.Fallbacks = []Target{{Model: "gob-small"}}
			tr, srv, _ := setup(t, tt.pol)
			srv.EchoModel()
			var at attempts
			tr.Observer = onAttempt(at.hook)
			srv.EnqueueModel("gob-large", tt.step)
			resp, got, err := postBody(t, tr, srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			if want := llmretrytest.WithModel(llmretrytest.Stream, "gob-small"); resp.StatusCode != 200 || !bytes.Equal(got, want) {
				t.Errorf("the caller read %q, want gob-small's stream", got)
			}
			if trail := at.trail(); trail != "fallback@ success@gob-small" {
				t.Errorf("attempts %s", trail)
			}
		})
	}
	t.Run("an error after the first token is not a reason to fall back", func(t *testing.T) {
		t.Parallel()
		pol := gptGobPolicy()
		pol.Fallbacks = []Target{{Model: "gob-small"}}
		tr, srv, _ := setup(t, pol)
		srv.EchoModel()
		step := gob.StreamError(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "horde_unavailable"}, 1)
		srv.EnqueueModel("gob-large", step)
		_, got, err := postBody(t, tr, srv.URL, body)
		if err != nil || !bytes.Equal(got, step.Body) || len(srv.Requests()) != 1 {
			t.Errorf("err %v, %d requests, read %q", err, len(srv.Requests()), got)
		}
	})
}

func TestFallbackEndpoint(t *testing.T) {
	t.Parallel()
	cen := llmretrytest.Dialect("cencori")
	a := llmretrytest.Start(t)
	b := llmretrytest.Start(t)
	b.EchoModel()
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	ft := &fakeTime{now: time.Now()}
	pol := cencoriPolicy()
	pol.Fallbacks = []Target{{
		Name:        "backup",
		BaseURL:     b.URL + "/openai/v1",
		StripPrefix: "/v1",
		Model:       "gpt-4o-mini",
		Header:      http.Header{"Authorization": {"Bearer sk-backup-secret-0002"}, "X-Tenant": nil},
	}}
	var at attempts
	tr := &Transport{Base: base, Policy: pol, seams: seams{now: ft.Now, sleep: ft.Sleep, rand: func() float64 { return 0.5 }}, Observer: onAttempt(at.hook), ReturnErrors: true}

	a.Enqueue(cen.Overloaded(0))
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/v1/chat/completions?key=sk-query-secret-0003&API_KEY=sk-query-secret-0003&api-version=2", strings.NewReader(largeBody))
	req.Header.Set("Authorization", "Bearer sk-primary-secret-0001")
	req.Header.Set("X-Api-Key", "sk-primary-secret-0001")
	req.Header["x-goog-api-key"] = []string{"sk-primary-secret-0001"} // set by hand, not canonical
	req.Header.Set("Cookie", "session=primary")
	req.Header.Set("X-Tenant", "t1")
	req.Header.Set("OpenAI-Beta", "kept")
	before := req.Header.Clone()
	resp, got, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := llmretrytest.WithModel(llmretrytest.Completion, "gpt-4o-mini"); !bytes.Equal(got, want) || resp.StatusCode != 200 {
		t.Errorf("answer %q", got)
	}
	rb := b.Requests()
	if len(a.Requests()) != 1 || len(rb) != 1 {
		t.Fatalf("requests: %d to a, %d to b", len(a.Requests()), len(rb))
	}
	h := rb[0].Header
	if rb[0].Path != "/openai/v1/chat/completions" || rb[0].Model != "gpt-4o-mini" {
		t.Errorf("b got %s for %s", rb[0].Path, rb[0].Model)
	}
	if h.Get("Authorization") != "Bearer sk-backup-secret-0002" || h.Get("X-Api-Key") != "" || h.Get("Cookie") != "" || h.Get("X-Tenant") != "" || h.Get("OpenAI-Beta") != "kept" {
		t.Errorf("b's headers: %v", h)
	}
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, "primary-secret") || strings.Contains(v, "query-secret") {
				t.Errorf("the first endpoint's credential reached the second in %s", k)
			}
		}
	}
	if !maps.EqualFunc(req.Header, before, slices.Equal[[]string]) || req.URL.Host != strings.TrimPrefix(a.URL, "http://") {
		t.Error("the caller's request was modified")
	}
	if trail := at.trail(); trail != "fallback@ success@backup" {
		t.Errorf("attempts %s", trail)
	}
	if at.all[1].Host != strings.TrimPrefix(b.URL, "http://") || at.all[1].Policy != "cencori/backup" {
		t.Errorf("second attempt reported as %s on %s", at.all[1].Policy, at.all[1].Host)
	}

	t.Run("the APIError names the target; its credential is redacted", func(t *testing.T) {
		a.Enqueue(cen.Overloaded(0))
		b.Enqueue(cen.Error(llmretrytest.ErrorReply{Status: 401, Code: "INVALID_API_KEY", Message: "key sk-backup-secret-0002 is invalid"}))
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/v1/chat/completions", strings.NewReader(largeBody))
		req.Header.Set("Authorization", "Bearer sk-primary-secret-0001")
		_, err := tr.RoundTrip(req)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Target != "backup" || apiErr.Status != 401 || strings.Contains(err.Error(), "sk-backup") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFallbackSkipsTargetsThatDoNotFit(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	for _, tt := range []struct {
		name, body string
		wantTrail  string
	}{
		{"a body without a model skips model targets", `{"messages":[]}`, "fallback@ success@other-host"},
		{"a body that is not JSON", `prompt=hello`, "fallback@ success@other-host"},
		{"a JSON body", largeBody, "fallback@ success@gob-small"},
		{"a request for the fallback model skips it", strings.Replace(largeBody, "gob-large", "gob-small", 1), "fallback@ success@other-host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, _ := setup(t, nil)
			srv.EchoModel()
			other := llmretrytest.Start(t)
			pol := gptGobPolicy()
			pol.Fallbacks = []Target{{Model: "gob-small"}, {Name: "other-host", BaseURL: other.URL}}
			tr.Policy = pol
			var at attempts
			tr.Observer = onAttempt(at.hook)
			srv.Enqueue(gob.Overloaded(0))
			if _, _, err := postBody(t, tr, srv.URL, tt.body); err != nil {
				t.Fatal(err)
			}
			if trail := at.trail(); trail != tt.wantTrail {
				t.Errorf("attempts %s, want %s", trail, tt.wantTrail)
			}
			if r := other.Requests(); len(r) == 1 && r[0].BodyHash != hash(tt.body) {
				t.Error("the other host got a changed body")
			}
		})
	}
}

func TestFallbackRequestOptionsAndBodies(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	tests := []struct {
		name      string
		ctx       func(context.Context) context.Context
		maxBuffer int64
		body      func() io.Reader // nil: a strings.Reader (GetBody set)
		wantTrail string
	}{
		{"WithoutFallback(WithMaxRetries(0)) sends once", sendOnce, 0, nil, "retries_exhausted@"},
		{"WithoutFallback retries the same model", WithoutFallback, 0, nil, "retry@ success@"},
		{"WithMaxRetries(0) still falls back", func(c context.Context) context.Context { return WithMaxRetries(c, 0) }, 0, nil, "fallback@ success@gob-small"},
		{"a body without GetBody is buffered and falls back", nil, 0,
			func() io.Reader { return io.MultiReader(strings.NewReader(largeBody)) }, "fallback@ success@gob-small"},
		{"a body too long to buffer cannot be sent again: no fallback", nil, 8,
			func() io.Reader { return io.MultiReader(strings.NewReader(largeBody)) }, "not_replayable@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := gptGobPolicy()
			pol.Fallbacks = []Target{{Model: "gob-small"}}
			tr, srv, _ := setup(t, pol)
			srv.EchoModel()
			tr.MaxBodyBuffer = tt.maxBuffer
			var at attempts
			tr.Observer = onAttempt(at.hook)
			srv.EnqueueModel("gob-large", gob.Overloaded(0))
			var body io.Reader = strings.NewReader(largeBody)
			if tt.body != nil {
				body = tt.body()
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", body)
			if _, _, err := do(t, tr, req); err != nil {
				t.Fatal(err)
			}
			if trail := at.trail(); trail != tt.wantTrail {
				t.Errorf("attempts %s, want %s", trail, tt.wantTrail)
			}
			for _, r := range srv.Requests() {
				if want := strings.Replace(largeBody, "gob-large", r.Model, 1); r.BodyHash != hash(want) || r.BodyLen != len(want) {
					t.Errorf("%s got a body of %d bytes that is not the caller's", r.Model, r.BodyLen)
				}
			}
		})
	}
}

// recordingBase keeps the requests that reach the base transport.
type recordingBase struct {
	next http.RoundTripper
	mu   sync.Mutex // guards reqs
	reqs []*http.Request
}

func (r *recordingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func TestFallbackRequestGetBody(t *testing.T) {
	t.Parallel()
	// The base transport may replay a request on its own (a reused
	// connection that was closed): GetBody and ContentLength of a fallback's
	// request must give its own body, not the caller's.
	tr, srv, _ := setup(t, nil)
	srv.EchoModel()
	rec := &recordingBase{next: tr.Base}
	tr.Base = rec
	pol := gptGobPolicy()
	pol.Fallbacks = []Target{{Model: "gob-small-but-longer"}}
	tr.Policy = pol
	srv.EnqueueModel("gob-large", llmretrytest.Dialect("gptgob").Overloaded(0))
	if _, _, err := postBody(t, tr, srv.URL, largeBody); err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) != 2 {
		t.Fatalf("%d requests", len(rec.reqs))
	}
	r := rec.reqs[1]
	want := strings.Replace(largeBody, "gob-large", "gob-small-but-longer", 1)
	rc, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	if string(b) != want || r.ContentLength != int64(len(want)) {
		t.Errorf("GetBody gives %q, ContentLength %d; want %q, %d", b, r.ContentLength, want, len(want))
	}
}

func TestFallbackCancellation(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	t.Run("cancelled while the fallback answers", func(t *testing.T) {
		t.Parallel()
		pol := gptGobPolicy()
		pol.Fallbacks = []Target{{Model: "gob-small"}, {Model: "gob-tiny"}}
		tr, srv, _ := setup(t, pol)
		srv.EchoModel()
		srv.EnqueueModel("gob-large", gob.Overloaded(0))
		srv.EnqueueModel("gob-small", llmretrytest.Step{Delay: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		tr.Observer = onAttempt(func(a AttemptInfo) {
			if a.Decision == DecisionFallback {
				go func() { // cancelled once the fallback's request is in the server's log, however long that takes
					for len(srv.Requests()) < 2 {
						time.Sleep(time.Millisecond)
					}
					cancel()
				}()
			}
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(largeBody))
		_, err := tr.RoundTrip(req)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("%d requests, want 2: nothing after the cancellation", n)
		}
	})
	t.Run("cancelled before the fallback", func(t *testing.T) {
		t.Parallel()
		pol := gptGobPolicy()
		pol.Fallbacks = []Target{{Model: "gob-small"}}
		tr, srv, _ := setup(t, pol)
		srv.EchoModel()
		ctx, cancel := context.WithCancel(context.Background())
		srv.Respond(func(llmretrytest.Request) llmretrytest.Step { return gob.Overloaded(0) })
		// Cancelled once the answer is in, so the server has logged the
		// request (cancelled in Respond, the client could return before the
		// server's log held it: 0 requests).
		base := tr.Base
		tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r)
			cancel()
			return resp, err
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(largeBody))
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1: a cancelled request does not fall back", n)
		}
	})
}

func TestFallbackPacingPerTarget(t *testing.T) {
	t.Parallel()
	// A 429 with a 30 s hint pauses gob-large's pacer; the fallback to
	// gob-small has its own and goes at once. A later request falls back at
	// once too, without an attempt on the paused target (FallbackOnRateLimit:
	// a 429 goes elsewhere instead of waiting out its hint); one that cannot
	// fall back still waits out the pause.
	pol := gptGobPolicy()
	pol.Fallbacks = []Target{{Model: "gob-small"}}
	pol.FallbackOnRateLimit = true
	tr, srv, ft := setup(t, pol)
	srv.EchoModel()
	var at attempts
	tr.Observer = onAttempt(at.hook)
	srv.EnqueueModel("gob-large", llmretrytest.Dialect("gptgob").RateLimit(30))
	for range 2 {
		if _, _, err := postBody(t, tr, srv.URL, largeBody); err != nil {
			t.Fatal(err)
		}
	}
	if w := ft.Waits(); len(w) != 0 {
		t.Errorf("the fallback waited %v", w)
	}
	if trail := at.trail(); trail != "fallback@ success@gob-small success@gob-small" {
		t.Errorf("attempts %s", trail)
	}
	req, _ := http.NewRequestWithContext(WithoutFallback(bg()), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(largeBody))
	req.Header.Set("Authorization", "Bearer sk-primary-secret-0001")
	if _, _, err := do(t, tr, req); err != nil {
		t.Fatal(err)
	}
	if w := ft.Waits(); len(w) != 1 || w[0] < 29*time.Second || w[0] > 30*time.Second {
		t.Errorf("a request to the paused target without fallback waited %v, want about 30s", w)
	}
	if p1, p2 := tr.fallbackPolicy(pol, 0, nil), tr.fallbackPolicy(pol, 0, nil); p1 != p2 || p1 == pol || p1.Name != "gptgob/gob-small" || p1.Fallbacks != nil {
		t.Errorf("derived policy %p %q (primary %p)", p1, p1.Name, pol)
	}
}

func TestAPIErrorNamesTarget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		e    APIError
		want string
	}{
		{APIError{Provider: "gptgob/gob-small", Target: "gob-small", Verdict: Verdict{Status: 503, Class: ClassModelOverloaded, Code: "horde_unavailable"}},
			"llmretry: gptgob/gob-small: 503 model_overloaded (horde_unavailable)"},
		{APIError{Provider: "backup-policy", Target: "backup", Verdict: Verdict{Status: 500, Class: ClassServerError}},
			"llmretry: backup-policy (backup): 500 server_error"},
		{APIError{Provider: "gptgob", Verdict: Verdict{Status: 500, Class: ClassServerError}}, "llmretry: gptgob: 500 server_error"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
