package llmretry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// pieces is a body that returns its bytes n at a time.
type pieces struct {
	b      []byte
	n      int
	err    error // returned after b
	closed bool
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), p.n)], p.b)
	p.b = p.b[n:]
	return n, nil
}

func (p *pieces) Close() error { p.closed = true; return nil }

func sseResponse(body string, n int, err error) *http.Response {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}},
		Body: &pieces{b: []byte(body), n: n, err: err}}
}

func TestPeekStream(t *testing.T) {
	t.Parallel()
	openaiErr := `data: {"error":{"message":"the goblin got distracted. retry.","type":"server_error","code":"goblin_distracted","param":null}}` + "\n\n"
	big := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("x", maxFirstEvent) + "\"}}]}\n\n"
	tests := []struct {
		name      string
		body      string
		failed    bool
		wantType  string
		wantData  string
		readErr   error // the read error that ends the stream
		wantError bool  // peekStream reports a failed stream
	}{
		{"normal OpenAI stream", llmretrytest.Stream, false, "", "", nil, false},
		{"normal Anthropic stream", llmretrytest.MessageStream, false, "", "", nil, false},
		{"OpenAI-compatible error event", openaiErr, true, "",
			`{"error":{"message":"the goblin got distracted. retry.","type":"server_error","code":"goblin_distracted","param":null}}`, nil, false},
		{"Anthropic error event", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", true, "error",
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, nil, false},
		{"Gemini array error", "data: [{\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}]\r\n\r\n", true, "",
			`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`, nil, false},
		{"keep-alive comments and a retry field first", ": OPENROUTER PROCESSING\n\n: ping\nretry: 1000\n\n" + openaiErr, true, "",
			`{"error":{"message":"the goblin got distracted. retry.","type":"server_error","code":"goblin_distracted","param":null}}`, nil, false},
		{"CR line ends", strings.ReplaceAll(openaiErr, "\n", "\r"), true, "",
			`{"error":{"message":"the goblin got distracted. retry.","type":"server_error","code":"goblin_distracted","param":null}}`, nil, false},
		{"byte-order mark", "\xEF\xBB\xBF" + openaiErr, true, "",
			`{"error":{"message":"the goblin got distracted. retry.","type":"server_error","code":"goblin_distracted","param":null}}`, nil, false},
		{"error as the second event passes", llmretrytest.Stream[:strings.Index(llmretrytest.Stream, "\n\n")+2] + openaiErr, false, "", "", nil, false},
		{"data lines joined", "event: error\ndata: {\"type\":\"error\",\ndata: \"error\":{\"type\":\"overloaded_error\"}}\n\n", true, "error",
			"{\"type\":\"error\",\n\"error\":{\"type\":\"overloaded_error\"}}", nil, false},
		{"content that mentions \"error\" is content", `data: {"choices":[{"delta":{"content":"say \"error\""}}]}` + "\n\n", false, "", "", nil, false},
		{"error member null", `data: {"error":null,"choices":[]}` + "\n\n", false, "", "", nil, false},
		{"an error member deeper down is not an error (Responses API)", "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"error\":null,\"status\":\"in_progress\"}}\n\n", false, "", "", nil, false},
		{"Responses API error event", "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\"}\n\n", true, "error",
			`{"type":"error","code":"server_error","message":"boom"}`, nil, false},
		{"malformed JSON is not read as an error", "data: {\"error\":{\"code\n\n", false, "", "", nil, false},
		{"[DONE] first", "data: [DONE]\n\n", false, "", "", nil, false},
		{"first event longer than the bound passes untouched", big + openaiErr, false, "", "", nil, false},
		{"clean end before any event passes", ": ping\n\n", false, "", "", io.EOF, false},
		{"connection lost before the first event", "data: {\"choi", false, "", "", io.ErrUnexpectedEOF, true},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 3, 7, 64, 1 << 20} {
			resp := sseResponse(tt.body, n, tt.readErr)
			orig := resp.Body.(*pieces)
			err := peekStream(resp, nil)
			if (err != nil) != tt.wantError {
				t.Fatalf("%s, reads of %d: err = %v, want error %v", tt.name, n, err, tt.wantError)
			}
			sb := resp.Body.(*streamBody)
			if sb.failed != tt.failed || (tt.failed && (string(sb.eventType) != tt.wantType || string(sb.data) != tt.wantData)) {
				t.Errorf("%s, reads of %d: failed %v type %q data %q; want %v %q %q", tt.name, n, sb.failed, sb.eventType, sb.data, tt.failed, tt.wantType, tt.wantData)
			}
			if len(sb.prefix) > maxFirstEvent {
				t.Errorf("%s, reads of %d: read %d bytes, more than the bound", tt.name, n, len(sb.prefix))
			}
			got, rerr := io.ReadAll(resp.Body)
			if string(got) != tt.body {
				t.Errorf("%s, reads of %d: the caller read %d bytes, want the %d sent", tt.name, n, len(got), len(tt.body))
			}
			if tt.readErr != nil && tt.readErr != io.EOF && !errors.Is(rerr, tt.readErr) {
				t.Errorf("%s, reads of %d: read error %v, want %v after the bytes", tt.name, n, rerr, tt.readErr)
			}
			resp.Body.Close()
			if !orig.closed {
				t.Errorf("%s: Close did not reach the body", tt.name)
			}
		}
	}
}

// streamPost sends a streaming chat completion through tr.
func streamPost(t *testing.T, tr http.RoundTripper, url, path string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(streamReqBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	return do(t, tr, req)
}

const streamReqBody = `{"model":"fake-model","messages":[{"role":"user","content":"Hello"}],"stream":true}`

func TestStreamFirstEvent(t *testing.T) {
	t.Parallel()
	gob, anth := llmretrytest.Dialect("gptgob"), llmretrytest.Dialect("anthropic")
	overloadedGemini := llmretrytest.Step{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: []byte("data: [{\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",\"status\":\"UNAVAILABLE\"}}]\n\n")}
	withChunks := func(s llmretrytest.Step, n int) llmretrytest.Step { s.Chunk = n; return s }
	withComments := func(s llmretrytest.Step) llmretrytest.Step {
		s.Body = append([]byte(": keep-alive\n\n: ping\n\n"), s.Body...)
		return s
	}
	contextLength := gob.StreamError(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Message: "too long"}, 0)
	tests := []struct {
		name     string
		path     string
		script   []llmretrytest.Step
		wantReqs int
		wantBody string // what the caller reads
		want     []Class
	}{
		{"goblin_distracted before the first token is retried (gptgob.md: Generation aborted mid-stream. Retry.)", "/v1/chat/completions",
			[]llmretrytest.Step{gob.AbortedStream(0)}, 2, llmretrytest.Stream, []Class{ClassServerError, ClassOK}},
		{"the same in 1-byte pieces", "/v1/chat/completions",
			[]llmretrytest.Step{withChunks(gob.AbortedStream(0), 1)}, 2, llmretrytest.Stream, []Class{ClassServerError, ClassOK}},
		{"after keep-alive comments", "/v1/chat/completions",
			[]llmretrytest.Step{withComments(gob.AbortedStream(0))}, 2, llmretrytest.Stream, []Class{ClassServerError, ClassOK}},
		{"goblin_distracted after the first token passes through untouched", "/v1/chat/completions",
			[]llmretrytest.Step{gob.AbortedStream(1)}, 1, string(gob.AbortedStream(1).Body), []Class{ClassOK}},
		{"Anthropic overloaded_error event is retried", "/v1/messages",
			[]llmretrytest.Step{anth.AbortedStream(0)}, 2, llmretrytest.MessageStream, []Class{ClassOverloaded, ClassOK}},
		{"Anthropic error after message_start and a delta passes", "/v1/messages",
			[]llmretrytest.Step{anth.AbortedStream(3)}, 1, string(anth.AbortedStream(3).Body), []Class{ClassOK}},
		{"Gemini [{error}] event is retried", "/v1/chat/completions",
			[]llmretrytest.Step{overloadedGemini}, 2, llmretrytest.Stream, []Class{ClassOverloaded, ClassOK}},
		{"a final error event is returned as it came", "/v1/chat/completions",
			[]llmretrytest.Step{contextLength}, 1, string(contextLength.Body), []Class{ClassContextLength}},
		{"a normal stream in 1-byte pieces is byte-identical", "/v1/chat/completions",
			[]llmretrytest.Step{withChunks(llmretrytest.Step{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: []byte(llmretrytest.Stream)}, 1)},
			1, llmretrytest.Stream, []Class{ClassOK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, _ := setup(t, gptGobPolicy())
			var got []Class
			tr.Observer = onAttempt(func(a AttemptInfo) { got = append(got, a.Verdict.Class) })
			srv.Enqueue(tt.script...)
			resp, body, err := streamPost(t, tr, srv.URL, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || string(body) != tt.wantBody {
				t.Errorf("status %d, body %q; want 200 and %q", resp.StatusCode, body, tt.wantBody)
			}
			if n := len(srv.Requests()); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("attempt classes %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStreamErrorRetriesEnd(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	step := gob.AbortedStream(0)
	t.Run("the last error stream reaches the caller byte-for-byte", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, gptGobPolicy())
		srv.Enqueue(step, step, step)
		resp, body, err := streamPost(t, tr, srv.URL, "/v1/chat/completions")
		if err != nil || resp.StatusCode != 200 || string(body) != string(step.Body) || len(srv.Requests()) != 3 {
			t.Errorf("err %v, %d requests, body %q", err, len(srv.Requests()), body)
		}
	})
	t.Run("ReturnErrors gives an APIError with the event's code", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, gptGobPolicy())
		tr.ReturnErrors = true
		srv.Enqueue(step, step, step)
		_, _, err := streamPost(t, tr, srv.URL, "/v1/chat/completions")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 200 || apiErr.Code != "goblin_distracted" || apiErr.Class != ClassServerError || apiErr.Attempts != 3 {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("the event's retry_after is honored", func(t *testing.T) {
		t.Parallel()
		tr, srv, ft := setup(t, gptGobPolicy())
		srv.Enqueue(gob.StreamError(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "x", RetryAfter: 3}, 0))
		if _, _, err := streamPost(t, tr, srv.URL, "/v1/chat/completions"); err != nil {
			t.Fatal(err)
		}
		if w := ft.Waits(); len(w) != 1 || w[0] != 3*time.Second {
			t.Errorf("waits %v, want [3s]", w)
		}
	})
}

func TestFirstTokenTimeout(t *testing.T) {
	t.Parallel()
	stallAfterHeaders := llmretrytest.Step{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: []byte(llmretrytest.Stream), Stall: time.Minute}
	stallAfterComment := stallAfterHeaders
	stallAfterComment.Body = append([]byte(": ping\n\n"), stallAfterComment.Body...)
	stallAfterComment.StallAfter = len(": ping\n\n")
	stallMidEvent := stallAfterHeaders
	stallMidEvent.StallAfter = 10
	// Each case asserts what always holds: the stalled first attempt is cut
	// off by the bound named (the stall is a minute), and retried. Whether
	// the retry then beats a 50 ms bound depends on the machine's load, so
	// either outcome is accepted: the stream, or the same timeout again.
	ftt := func(d time.Duration) func(*Policy) { return func(p *Policy) { p.FirstTokenTimeout = d } }
	tests := []struct {
		name  string
		pol   func(*Policy)
		ctx   func(context.Context) context.Context
		step  llmretrytest.Step
		cause error // what cuts the first attempt off
	}{
		{"headers then nothing: cut off, retried", ftt(50 * time.Millisecond), nil, stallAfterHeaders, ErrFirstTokenTimeout},
		{"keep-alive comment then nothing", ftt(50 * time.Millisecond), nil, stallAfterComment, ErrFirstTokenTimeout},
		{"half an event then nothing", ftt(50 * time.Millisecond), nil, stallMidEvent, ErrFirstTokenTimeout},
		{"per request", nil, func(c context.Context) context.Context { return WithFirstTokenTimeout(c, 50*time.Millisecond) },
			stallAfterHeaders, ErrFirstTokenTimeout},
		{"the attempt timeout bounds the first event too", func(p *Policy) { p.AttemptTimeout = 50 * time.Millisecond }, nil,
			stallAfterHeaders, errAttemptTimeout},
		{"the shorter bound wins", func(p *Policy) { p.AttemptTimeout = time.Hour; p.FirstTokenTimeout = 50 * time.Millisecond }, nil,
			stallAfterHeaders, ErrFirstTokenTimeout},
		{"no headers in time for a stream request", ftt(50 * time.Millisecond), nil, llmretrytest.Step{Delay: time.Minute}, ErrFirstTokenTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := gptGobPolicy()
			if tt.pol != nil {
				tt.pol(pol)
			}
			tr, srv, _ := setup(t, pol)
			var at attempts
			tr.Observer = onAttempt(at.hook)
			srv.Enqueue(tt.step)
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(streamReqBody))
			resp, body, err := do(t, tr, req)
			switch {
			case err == nil && (resp.StatusCode != 200 || string(body) != llmretrytest.Stream):
				t.Errorf("status %d body %q, want the stream of a retry", resp.StatusCode, body)
			case err != nil && !errors.Is(err, tt.cause):
				t.Errorf("err = %v, want the stream or %v", err, tt.cause)
			}
			if len(at.all) < 2 {
				t.Fatalf("%d attempts: want a retry", len(at.all))
			}
			if a := at.all[0]; a.Verdict.Class != ClassTimeout || !errors.Is(a.Verdict.Err, tt.cause) || a.Decision != DecisionRetry {
				t.Errorf("first attempt: %s %v → %s; want a timeout by %v, retried", a.Verdict.Class, a.Verdict.Err, a.Decision, tt.cause)
			}
		})
	}
	t.Run("a non-stream request may wait for its headers", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, nil)
		tr.Policy = &Policy{FirstTokenTimeout: time.Millisecond}
		srv.Enqueue(llmretrytest.Step{Delay: 50 * time.Millisecond})
		resp, body, err := post(t, tr, srv.URL)
		if err != nil || resp.StatusCode != 200 || string(body) != llmretrytest.Completion || len(srv.Requests()) != 1 {
			t.Errorf("err %v, %d requests, body %q: want the slow answer, once", err, len(srv.Requests()), body)
		}
	})
	t.Run("retries end: the error says first token", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, &Policy{FirstTokenTimeout: 20 * time.Millisecond, MaxRetries: -1})
		srv.Enqueue(stallAfterHeaders)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(streamReqBody))
		_, err := tr.RoundTrip(req)
		var te interface{ Timeout() bool }
		if !errors.Is(err, ErrFirstTokenTimeout) || !strings.Contains(err.Error(), "no first token after 20ms") || !errors.As(err, &te) || !te.Timeout() {
			t.Fatalf("err = %v, want a timeout that matches ErrFirstTokenTimeout", err)
		}
	})
}

func TestIsEventStream(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		header http.Header
		want   bool
	}{
		{200, http.Header{"Content-Type": {"text/event-stream"}}, true},
		{200, http.Header{"Content-Type": {"Text/Event-Stream; charset=utf-8"}}, true},
		{200, http.Header{"Content-Type": {"text/event-stream"}, "Content-Encoding": {"identity"}}, true},
		{200, http.Header{"Content-Type": {"text/event-stream"}, "Content-Encoding": {"gzip"}}, false}, // bytes the caller decodes: not events
		{200, http.Header{"Content-Type": {"application/json"}}, false},
		{200, http.Header{}, false},
		{503, http.Header{"Content-Type": {"text/event-stream"}}, false}, // an error answer is classified by its body
		{204, http.Header{"Content-Type": {"text/event-stream"}}, true},
	} {
		resp := &http.Response{StatusCode: tt.status, Header: tt.header, Body: io.NopCloser(strings.NewReader(""))}
		if got := isEventStream(resp); got != tt.want {
			t.Errorf("%d %v: %v, want %v", tt.status, tt.header, got, tt.want)
		}
	}
}

func TestPeekStreamAllocations(t *testing.T) {
	// A stream that starts normally costs one allocation: the streamBody
	// with its inline room for the first event.
	body := []byte(llmretrytest.MessageStream)
	p := &pieces{}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}}
	allocs := testing.AllocsPerRun(100, func() {
		p.b, p.n = body, len(body)
		resp.Body = p
		if err := peekStream(resp, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Errorf("%v allocations to peek a normal stream, want 1", allocs)
	}
}

func FuzzPeekStream(f *testing.F) {
	for _, s := range []string{llmretrytest.Stream, llmretrytest.MessageStream, ": ping\r\n\r\ndata: {\"error\":{}}\r\n\r\n",
		"event: error\rdata: x\r\r", "data: [{\"error\":{\"code\":503}}]\n\n", "\xEF\xBB\xBFdata:\ndata: {\n\n"} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, body []byte, n uint8) {
		resp := sseResponse(string(body), int(n%64)+1, nil)
		if err := peekStream(resp, nil); err != nil {
			t.Fatalf("peekStream: %v", err)
		}
		sb := resp.Body.(*streamBody)
		if len(sb.prefix) > maxFirstEvent {
			t.Fatalf("read %d bytes", len(sb.prefix))
		}
		if sb.failed {
			gptGobPolicy().streamVerdict(resp, sb, time.Now())
		}
		got, _ := io.ReadAll(resp.Body)
		if !bytes.Equal(got, body) {
			t.Fatalf("the caller read %q, want %q", got, body)
		}
	})
}

func TestStreamAttacks(t *testing.T) {
	t.Parallel()
	sse := http.Header{"Content-Type": {"text/event-stream"}}
	t.Run("a first event longer than the bound passes untouched", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, gptGobPolicy())
		body := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("x", 2*maxFirstEvent) + "\"}}]}\n\n" +
			string(llmretrytest.Dialect("gptgob").AbortedStream(0).Body)
		srv.Enqueue(llmretrytest.Step{Status: 200, Header: sse, Body: []byte(body), Chunk: 1000})
		resp, got, err := streamPost(t, tr, srv.URL, "/v1/chat/completions")
		if err != nil || resp.StatusCode != 200 || string(got) != body || len(srv.Requests()) != 1 {
			t.Errorf("err %v, %d requests, %d of %d bytes", err, len(srv.Requests()), len(got), len(body))
		}
	})
	t.Run("headers then nothing, no bound but the context's", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, gptGobPolicy())
		srv.Enqueue(llmretrytest.Step{Status: 200, Header: sse, Body: []byte(llmretrytest.Stream), Stall: time.Minute})
		ctx, cancel := timeoutCtx(100 * time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(streamReqBody))
		_, err := tr.RoundTrip(req)
		if !errors.Is(err, context.DeadlineExceeded) || len(srv.Requests()) != 1 {
			t.Errorf("err = %v after %d requests, want the context's deadline after 1", err, len(srv.Requests()))
		}
	})
	t.Run("an error event split across many tiny reads, after comments", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, gptGobPolicy())
		step := llmretrytest.Dialect("gptgob").AbortedStream(0)
		step.Body = append([]byte(":\r\n:\r\n\r\n"), step.Body...)
		step.Chunk = 1
		srv.Enqueue(step, step)
		resp, got, err := streamPost(t, tr, srv.URL, "/v1/chat/completions")
		if err != nil || resp.StatusCode != 200 || string(got) != llmretrytest.Stream || len(srv.Requests()) != 3 {
			t.Errorf("err %v, %d requests, read %q", err, len(srv.Requests()), got)
		}
	})
}
