package llmretrytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func post(t *testing.T, s *Server, body string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := s.Client().Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestScriptThenDefault(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Enqueue(Dialect("gptgob").RateLimit(12), Step{Status: 418, Body: []byte("teapot")})
	resp, b, _ := post(t, s, `{"a":1}`)
	if resp.StatusCode != 429 || !strings.Contains(string(b), `"retry_after":12`) || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("first: %d %s, want GPT-Gob's 429 with retry_after and X-Request-Id", resp.StatusCode, b)
	}
	resp, b, _ = post(t, s, `{"a":1}`)
	if resp.StatusCode != 418 || string(b) != "teapot" {
		t.Errorf("second: %d %s", resp.StatusCode, b)
	}
	resp, b, _ = post(t, s, `{"a":1}`)
	if resp.StatusCode != 200 || string(b) != Completion {
		t.Errorf("third: %d %s, want a completion", resp.StatusCode, b)
	}
	resp, b, _ = post(t, s, `{"stream":true}`)
	if resp.Header.Get("Content-Type") != "text/event-stream" || string(b) != Stream {
		t.Errorf("stream: %q", b)
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[2].Attempt != 3 || reqs[3].Attempt != 1 || reqs[0].Status != 429 {
		t.Errorf("log: %+v", reqs)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Enqueue(Step{Reset: true})
	if _, _, err := post(t, s, `{}`); err == nil {
		t.Error("reset: want a transport error")
	}
	s.Enqueue(Step{Status: 200, Body: []byte("0123456789"), Cut: true, CutAfter: 4})
	_, b, err := post(t, s, `{}`)
	if err == nil || string(b) != "0123" {
		t.Errorf("cut: got %q, %v; want 4 bytes and an error", b, err)
	}
	s.Enqueue(Step{Delay: 50 * time.Millisecond})
	start := time.Now()
	post(t, s, `{}`)
	if time.Since(start) < 50*time.Millisecond {
		t.Error("delay not applied")
	}
}

func TestDialectFormats(t *testing.T) {
	t.Parallel()
	e := ErrorReply{Status: 400, Type: "invalid_request_error", Code: "decimal_above_max_value", Message: "m", Param: "top_p"}
	tests := []struct {
		d    Dialect
		want string
	}{
		{Dialect("openai"), `{"error":{"code":"decimal_above_max_value","message":"m","param":"top_p","type":"invalid_request_error"}}`},
		{Dialect("cerebras"), `{"code":"decimal_above_max_value","message":"m","param":"top_p","type":"invalid_request_error"}`},
		{Dialect("cencori"), `{"code":"decimal_above_max_value","details":{},"error":"m","status":400}`},
		{Dialect("gptgob"), `{"error":{"code":"decimal_above_max_value","message":"m","param":"top_p","type":"invalid_request_error"}}`},
	}
	for _, tt := range tests {
		if got := string(tt.d.Error(e).Body); got != tt.want {
			t.Errorf("%v: %s\nwant %s", tt.d, got, tt.want)
		}
	}
	for _, d := range Dialects() {
		for _, st := range []Step{d.RateLimit(3), d.QuotaExhausted(), d.Overloaded(1), d.ServerError()} {
			if !json.Valid(st.Body) || st.Status < 400 {
				t.Errorf("%v: invalid step %d %s", d, st.Status, st.Body)
			}
		}
		if d.format().name != string(d) {
			t.Errorf("Dialect(%q) has no format of its own", d)
		}
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.SetLimit(Style("openai").Spec(Requests, 1, 2)) // 1/s, burst 2
	var statuses []int
	for i := 0; i < 3; i++ {
		resp, _, err := post(t, s, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
		if i == 2 {
			if resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Retry-After-Ms") == "" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
				t.Errorf("429 headers: %v", resp.Header)
			}
		}
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 {
		t.Errorf("statuses = %v, want [200 200 429]", statuses)
	}
	// The 429 advised a wait; coming back at once is early.
	post(t, s, `{}`)
	if r := s.Requests(); !r[3].Early || r[3].SinceHint <= 0 {
		t.Errorf("a request right after the 429 must count as early: %+v", r[3])
	}
}

func TestKeyGroupsAttempts(t *testing.T) {
	t.Parallel()
	s := Start(t)
	for _, key := range []string{"a", "b", "a"} {
		req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{}`))
		req.Header.Set(KeyHeader, key)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	r := s.Requests()
	if r[0].Attempt != 1 || r[1].Attempt != 1 || r[2].Attempt != 2 || r[2].Key != "a" {
		t.Errorf("attempts by key: %d %d %d", r[0].Attempt, r[1].Attempt, r[2].Attempt)
	}
}

func TestModelScriptsAndEcho(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.EnqueueModel("big", Dialect("gptgob").Overloaded(0))
	resp, b, _ := post(t, s, `{"model":"big"}`)
	if resp.StatusCode != 503 || !strings.Contains(string(b), "horde_unavailable") {
		t.Errorf("big: %d %s, want its scripted 503", resp.StatusCode, b)
	}
	if _, b, _ = post(t, s, `{"model":"small"}`); string(b) != Completion {
		t.Errorf("without EchoModel the answer is Completion: %s", b)
	}
	s.EchoModel()
	if _, b, _ = post(t, s, `{"model":"big"}`); string(b) != string(WithModel(Completion, "big")) || !strings.Contains(string(b), `"model":"big"`) {
		t.Errorf("big after its script: %s", b)
	}
	if _, b, _ = post(t, s, `{"model":"small","stream":true}`); string(b) != string(WithModel(Stream, "small")) {
		t.Errorf("small stream: %s", b)
	}
	if r := s.Requests(); r[0].Model != "big" || r[1].Model != "small" {
		t.Errorf("log models: %q %q", r[0].Model, r[1].Model)
	}
}

func TestStreamError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		step Step
		want string
	}{
		{"GPT-Gob before the first token", Dialect("gptgob").AbortedStream(0),
			`data: {"error":{"code":"goblin_distracted","message":"the goblin got distracted. retry.","param":null,"type":"server_error"}}` + "\n\n"},
		{"GPT-Gob after one chunk", Dialect("gptgob").AbortedStream(1), Stream[:strings.Index(Stream, "\n\n")+2] +
			`data: {"error":{"code":"goblin_distracted","message":"the goblin got distracted. retry.","param":null,"type":"server_error"}}` + "\n\n"},
		{"Anthropic", Dialect("anthropic").AbortedStream(0),
			"event: error\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\"},\"type\":\"error\"}\n\n"},
		{"Cencori", Dialect("cencori").AbortedStream(0),
			`data: {"code":"PROVIDER_ERROR","details":{},"error":"The AI provider is unavailable.","status":503}` + "\n\n"},
	} {
		if got := string(tt.step.Body); got != tt.want || tt.step.Status != 200 || tt.step.Header.Get("Content-Type") != "text/event-stream" {
			t.Errorf("%s: %d %q\nwant %q", tt.name, tt.step.Status, got, tt.want)
		}
	}
}

func TestChunkedAndStalled(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Enqueue(Step{Status: 200, Body: []byte("0123456789"), Chunk: 3},
		Step{Status: 200, Body: []byte("0123456789"), Stall: time.Minute, StallAfter: 4})
	resp, b, err := post(t, s, `{}`)
	if err != nil || string(b) != "0123456789" || resp.ContentLength != -1 {
		t.Errorf("chunked: %q %v (length %d)", b, err, resp.ContentLength)
	}
	resp, err = s.Client().Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 10)
	n, _ := io.ReadAtLeast(resp.Body, buf, 4)
	if string(buf[:n]) != "0123" {
		t.Errorf("stalled: read %q before the stall, want 0123", buf[:n])
	}
}

// Seq numbers requests as they arrive, even while earlier ones are still
// being answered: the demo's accounting keys answers by Seq.
func TestSeqUniqueWhileAnswering(t *testing.T) {
	t.Parallel()
	s := Start(t)
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	seqs := make(chan int, n)
	s.Respond(func(r Request) Step {
		seqs <- r.Seq
		arrived.Done()
		arrived.Wait() // every request is in Respond before any is answered
		return Step{}
	})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := post(t, s, fmt.Sprintf(`{"model":"m","n":%d}`, i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[int]bool{}
	for q := range seqs {
		if seen[q] || q < 1 || q > n {
			t.Errorf("Seq %d given twice or outside 1..%d", q, n)
		}
		seen[q] = true
	}
}
