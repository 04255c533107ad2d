package llmretry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func TestRoundTripRetries(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	tests := []struct {
		name       string
		script     []llmretrytest.Step
		wantStatus int
		wantTries  int
		wantWaits  []time.Duration
	}{
		{"success", nil, 200, 1, nil},
		{"429 rate_limit_exceeded with body retry_after is retried after the hint",
			[]llmretrytest.Step{gob.RateLimit(12)}, 200, 2, []time.Duration{12 * time.Second}},
		{"429 quota_exceeded is not retried",
			[]llmretrytest.Step{gob.QuotaExhausted()}, 429, 1, nil},
		{"503 without hint is retried with backoff until exhausted",
			[]llmretrytest.Step{gob.Error(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "x"}),
				gob.Error(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "x"}),
				gob.Error(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "x"})},
			503, 3, []time.Duration{375 * time.Millisecond, 750 * time.Millisecond}},
		{"500 then success", []llmretrytest.Step{gob.ServerError()}, 200, 2, []time.Duration{375 * time.Millisecond}},
		{"400 is not retried", []llmretrytest.Step{gob.Error(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Code: "invalid_mining_depth"})}, 400, 1, nil},
		{"hint longer than MaxWait returns at once",
			[]llmretrytest.Step{llmretrytest.Dialect("openai").RateLimit(3600)}, 429, 1, nil},
		{"x-should-retry: false overrides a retryable class",
			[]llmretrytest.Step{{Status: 503, Header: http.Header{"X-Should-Retry": {"false"}}}}, 503, 1, nil},
		{"x-should-retry: true overrides a final class",
			[]llmretrytest.Step{{Status: 409, Header: http.Header{"X-Should-Retry": {"true"}}}}, 200, 2, []time.Duration{375 * time.Millisecond}},
		{"connection reset is retried", []llmretrytest.Step{{Reset: true}}, 200, 2, []time.Duration{375 * time.Millisecond}},
		{"retry-after-ms wins over Retry-After",
			[]llmretrytest.Step{{Status: 429, Header: http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"1500"}}}}, 200, 2, []time.Duration{1500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, nil)
			srv.Enqueue(tt.script...)
			resp, body, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d; body %s", got, want, body)
			}
			if got, want := len(srv.Requests()), tt.wantTries; got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
			if got, want := ft.Waits(), tt.wantWaits; !slices.Equal(got, want) {
				t.Errorf("waits = %v, want %v", got, want)
			}
		})
	}
}

func TestRoundTripReturnsErrorBodyIntact(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 100, maxErrorBody - 1, maxErrorBody, maxErrorBody + 1, 3 * maxErrorBody} {
		tr, srv, _ := setup(t, nil)
		payload := bytes.Repeat([]byte("x"), size)
		if size > 20 {
			copy(payload, `{"error":{"code":"q"}} `)
		}
		srv.Enqueue(llmretrytest.Step{Status: 400, Body: payload})
		resp, body, err := post(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 400 || !bytes.Equal(body, payload) {
			t.Errorf("size %d: got status %d and %d bytes, want 400 and the %d bytes sent", size, resp.StatusCode, len(body), size)
		}
	}
}

func TestRoundTripSuccessBodyUntouched(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	resp, body, err := post(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(body), llmretrytest.Completion; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if _, ok := resp.Body.(*peekedBody); ok {
		t.Error("2xx body was wrapped: it must reach the caller untouched")
	}
}

func TestRoundTripReplaysBodyByteForByte(t *testing.T) {
	t.Parallel()
	payload := strings.Repeat(`{"messages":[{"role":"user","content":"héllo"}]}`, 5000) // > 64 KiB
	tests := []struct {
		name      string
		getBody   bool
		maxBuffer int64
		wantTries int
	}{
		{"with GetBody", true, 0, 3},
		{"without GetBody, buffered", false, 0, 3},
		{"without GetBody, too long to buffer: sent once", false, 1024, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, _ := setup(t, nil)
			tr.MaxBodyBuffer = tt.maxBuffer
			srv.Enqueue(llmretrytest.Dialect("openai").ServerError(), llmretrytest.Step{Reset: true})
			body := &countingBody{Reader: strings.NewReader(payload)}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", body)
			req.ContentLength = int64(len(payload))
			if tt.getBody {
				req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(payload)), nil }
			}
			if _, _, err := do(t, tr, req); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if got, want := len(reqs), tt.wantTries; got != want {
				t.Fatalf("attempts = %d, want %d", got, want)
			}
			for i, r := range reqs {
				if r.BodyHash != hash(payload) || r.BodyLen != len(payload) {
					t.Errorf("attempt %d: server got %d bytes with another hash, want the %d bytes sent", i+1, r.BodyLen, len(payload))
				}
			}
			if got := body.closes.Load(); got != 1 {
				t.Errorf("request body closed %d times, want 1", got)
			}
			if req.Body != body {
				t.Error("caller's request was modified")
			}
		})
	}
}

// TestRoundTripClosesBodyOnce covers the paths where the request body must be
// closed by us or by the base transport: exactly once each time.
func TestRoundTripClosesBodyOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []llmretrytest.Step
		ctx    func() (context.Context, context.CancelFunc)
	}{
		{"success", nil, nil},
		{"retried then success", []llmretrytest.Step{llmretrytest.Dialect("openai").ServerError()}, nil},
		{"not retryable", []llmretrytest.Step{llmretrytest.Dialect("openai").QuotaExhausted()}, nil},
		{"retries exhausted", []llmretrytest.Step{{Reset: true}, {Reset: true}, {Reset: true}}, nil},
		{"context already cancelled", nil, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
	}
	for _, tt := range tests {
		for _, getBody := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tr, srv, _ := setup(t, nil)
				srv.Enqueue(tt.script...)
				ctx := context.Background()
				if tt.ctx != nil {
					var cancel context.CancelFunc
					ctx, cancel = tt.ctx()
					defer cancel()
				}
				body := &countingBody{Reader: strings.NewReader(chatBody)}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, body)
				if getBody {
					req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(chatBody)), nil }
				}
				resp, err := tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				if got := body.closes.Load(); got != 1 {
					t.Errorf("GetBody %v: request body closed %d times, want 1", getBody, got)
				}
			})
		}
	}
}

func TestRoundTripDeadline(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, nil)
	srv.Enqueue(llmretrytest.Dialect("gptgob").RateLimit(12))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(chatBody))
	var decisions []Decision
	tr.Observer = onAttempt(func(a AttemptInfo) { decisions = append(decisions, a.Decision) })
	resp, _, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || len(ft.Waits()) != 0 {
		t.Errorf("got %d after waits %v; want the 429 at once: the 12 s hint passes the 5 s deadline", resp.StatusCode, ft.Waits())
	}
	if len(decisions) != 1 || decisions[0] != DecisionPastDeadline {
		t.Errorf("decisions = %v, want [past_deadline]", decisions)
	}
}

func TestRoundTripCancelDuringWait(t *testing.T) {
	t.Parallel()
	srv := llmretrytest.Start(t)
	srv.Enqueue(llmretrytest.Dialect("gptgob").RateLimit(30))
	ctx, cancel := context.WithCancel(context.Background())
	tr := &Transport{Base: &http.Transport{}, Observer: onAttempt(func(a AttemptInfo) {
		if a.Decision == DecisionRetry {
			cancel() // the caller gives up while the Transport waits 30 s
		}
	})}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(chatBody))
	done := make(chan error, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RoundTrip still waiting after its context was cancelled")
	}
	if got := len(srv.Requests()); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

func TestRoundTripRequestOverrides(t *testing.T) {
	t.Parallel()
	failing := func(n int) []llmretrytest.Step {
		s := make([]llmretrytest.Step, n)
		for i := range s {
			s[i] = llmretrytest.Dialect("openai").ServerError()
		}
		return s
	}
	tests := []struct {
		name      string
		ctx       func(context.Context) context.Context
		script    []llmretrytest.Step
		wantTries int
	}{
		{"WithoutFallback(WithMaxRetries(0))", sendOnce, failing(5), 1},
		{"WithMaxRetries(4)", func(c context.Context) context.Context { return WithMaxRetries(c, 4) }, failing(10), 5},
		{"WithPolicy no retries", func(c context.Context) context.Context { return WithPolicy(c, &Policy{MaxRetries: -1}) }, failing(5), 1},
		// Every attempt stalls far past the bound: each is cut off and retried,
		// so all 3 attempts are made whatever the machine's load.
		{"WithAttemptTimeout", func(c context.Context) context.Context { return WithAttemptTimeout(c, 50*time.Millisecond) },
			[]llmretrytest.Step{{Delay: time.Minute}, {Delay: time.Minute}, {Delay: time.Minute}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, _ := setup(t, nil)
			srv.Enqueue(tt.script...)
			req, _ := http.NewRequestWithContext(tt.ctx(context.Background()), http.MethodPost, srv.URL, strings.NewReader(chatBody))
			_, _, err := do(t, tr, req)
			if tt.name == "WithAttemptTimeout" {
				if !errors.Is(err, errAttemptTimeout) {
					t.Fatalf("err = %v, want the attempt timeout after the last attempt", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got, want := len(srv.Requests()), tt.wantTries; got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
		})
	}
}

func TestRoundTripAttemptTimeoutDoesNotCutTheBody(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	gotHeaders := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("first "))
		w.(http.Flusher).Flush()
		<-gotHeaders                    // the attempt has its headers in time...
		time.Sleep(timeout + timeout/2) // ...and its body goes on past the attempt timeout
		w.Write([]byte("second"))
	}))
	defer srv.Close()
	var once sync.Once
	base := stopBase(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		once.Do(func() { close(gotHeaders) })
		return resp, err
	})
	tr := &Transport{Base: base, Policy: &Policy{AttemptTimeout: timeout}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	_, body, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(body), "first second"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestRoundTripReusesConnections(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	big := llmretrytest.Step{Status: 503, Body: bytes.Repeat([]byte("e"), 3000)}
	srv.Enqueue(big, llmretrytest.Dialect("openai").RateLimit(1))
	if _, _, err := post(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Requests()); got != 3 {
		t.Fatalf("attempts = %d, want 3", got)
	}
	if got := srv.Connections(); got != 1 {
		t.Errorf("connections = %d, want 1: discarded responses must be drained so the connection is reused", got)
	}
}

func TestRoundTripPermanentTransportErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	tls := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tls.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is the point
	tls.StartTLS()
	defer tls.Close()
	var attempts int
	tr := &Transport{Base: &http.Transport{}, Observer: onAttempt(func(a AttemptInfo) { attempts++ })}
	req, _ := http.NewRequest(http.MethodGet, tls.URL, nil) // the certificate is not trusted
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("want a certificate error")
	}
	if attempts != 1 {
		t.Errorf("attempts = %d, want 1: an untrusted certificate is permanent", attempts)
	}
}

func TestRoundTripReturnErrors(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, gptGobPolicy())
	tr.ReturnErrors = true
	srv.Enqueue(llmretrytest.Dialect("gptgob").RateLimit(1), llmretrytest.Dialect("gptgob").RateLimit(1), llmretrytest.Dialect("gptgob").RateLimit(2), llmretrytest.Dialect("gptgob").RateLimit(3))
	client := &http.Client{Transport: tr}
	resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(chatBody))
	if err == nil {
		resp.Body.Close()
		t.Fatal("want an error")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	want := APIError{Provider: "gptgob", Verdict: Verdict{Status: 429, Class: ClassRateLimited, Retryable: true, Type: "rate_limit_exceeded",
		Code: "gremlin_in_the_pipes", Message: "too many requests, tall one. come back in 2s.", RetryAfter: 2 * time.Second, Hint: hintBody}, Attempts: 3, Decision: DecisionRetriesExhausted}
	got := *apiErr
	got.RequestID = ""
	if got != want {
		t.Errorf("APIError = %+v\n want %+v", got, want)
	}
	if apiErr.RequestID == "" {
		t.Error("RequestID is empty; GPT-Gob sends X-Request-Id on every response")
	}
}

type closeIdleRecorder struct {
	http.RoundTripper
	closed int
}

func (c *closeIdleRecorder) CloseIdleConnections() { c.closed++ }

func TestCloseIdleConnectionsForwarded(t *testing.T) {
	t.Parallel()
	rec := &closeIdleRecorder{RoundTripper: http.DefaultTransport}
	client := &http.Client{Transport: &Transport{Base: rec}}
	client.CloseIdleConnections()
	if rec.closed != 1 {
		t.Errorf("CloseIdleConnections reached the base %d times, want 1", rec.closed)
	}
}

func TestRoundTripDoesNotModifyRequest(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-x")
	before := req.Header.Clone()
	body, ctx, url := req.Body, req.Context(), req.URL.String()
	if _, _, err := do(t, tr, req); err != nil {
		t.Fatal(err)
	}
	if req.Body != body || req.Context() != ctx || req.URL.String() != url || len(req.Header) != len(before) || req.Header.Get("Authorization") != "Bearer sk-x" {
		t.Error("the caller's request was modified")
	}
}

// TestRoundTripStalledErrorBody: an error answer whose body stalls after the
// headers is cut off by the attempt timeout and retried, not waited on.
func TestRoundTripStalledErrorBody(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(503)
			w.Write([]byte(`{"error":{"type":"overl`))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // a dead connection: nothing more, ever
			return
		}
		io.WriteString(w, llmretrytest.Completion)
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	tr := &Transport{Base: base, Policy: &Policy{AttemptTimeout: 50 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond }}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
	resp, body, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(body) != llmretrytest.Completion || n.Load() != 2 {
		t.Errorf("got %d after %d attempts, want the completion after a retry", resp.StatusCode, n.Load())
	}
}

// TestRoundTripGetBodyFails: when the body cannot be rewound for a retry, the
// caller gets the last answer, intact, not the rewind error.
func TestRoundTripGetBodyFails(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("cannot rewind") }
	var decisions []Decision
	tr.Observer = onAttempt(func(a AttemptInfo) { decisions = append(decisions, a.Decision) })
	resp, body, err := do(t, tr, req)
	if err != nil {
		t.Fatalf("err = %v, want the 500 answer", err)
	}
	if resp.StatusCode != 500 || !bytes.Equal(body, llmretrytest.Dialect("openai").ServerError().Body) || len(srv.Requests()) != 1 {
		t.Errorf("got %d %q after %d attempts, want the 500 and its body after 1", resp.StatusCode, body, len(srv.Requests()))
	}
	if len(decisions) != 1 || decisions[0] != DecisionNotReplayable {
		t.Errorf("decisions = %v, want [not_replayable]", decisions)
	}
}
