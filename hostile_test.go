package llmretry

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// roundTripFunc is a Base made of a function.
// deadURL is the URL of a port that refuses connections.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// TestRoundTripInvalidRequests: a request that no attempt can send gets an
// error at once, as from net/http's Transport: no panic, no attempt, its
// body closed once.
func TestRoundTripInvalidRequests(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("http://127.0.0.1:1/v1/chat/completions")
	noHost, _ := url.Parse("http:///v1/chat/completions")
	tests := []struct {
		name string
		req  func(body io.ReadCloser) *http.Request
		want string
	}{
		{"nil request", func(io.ReadCloser) *http.Request { return nil }, "nil Request"},
		{"nil URL", func(b io.ReadCloser) *http.Request {
			return &http.Request{Method: "POST", Header: http.Header{}, Body: b}
		}, "nil Request.URL"},
		{"nil Header", func(b io.ReadCloser) *http.Request { return &http.Request{Method: "POST", URL: u, Body: b} }, "nil Request.Header"},
		{"invalid method", func(b io.ReadCloser) *http.Request {
			return &http.Request{Method: "POST /x", URL: u, Header: http.Header{}, Body: b}
		}, "invalid method"},
		{"no host", func(b io.ReadCloser) *http.Request {
			return &http.Request{Method: "POST", URL: noHost, Header: http.Header{}, Body: b}
		}, "no Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			attempts := 0
			tr := &Transport{Base: &http.Transport{}, Observer: onAttempt(func(AttemptInfo) { attempts++ })}
			body := &countingBody{Reader: strings.NewReader(chatBody)}
			req := tt.req(body)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
			if attempts != 0 {
				t.Errorf("attempts = %d, want none", attempts)
			}
			if got := body.closes.Load(); req != nil && got != 1 {
				t.Errorf("body closed %d times, want 1", got)
			}
		})
	}
}

// TestRequestErrorsSpendNoBudget: requests that fail by their own fault (no
// host, a header no request may carry, an unsupported scheme) are not
// retried and do not spend the retry budget, so a real 503 that follows
// many of them is still retried.
func TestRequestErrorsSpendNoBudget(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	var decisions []Decision
	tr.Observer = onAttempt(func(a AttemptInfo) { decisions = append(decisions, a.Decision) })
	bad := []func() *http.Request{
		func() *http.Request {
			r, _ := http.NewRequest("POST", "http:///v1", strings.NewReader(chatBody))
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest("POST", srv.URL, strings.NewReader(chatBody))
			r.Header["Bad Header"] = []string{"x"}
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest("POST", srv.URL, strings.NewReader(chatBody))
			r.Header.Set("X-Api-Key", "sk-\r\nInjected: yes")
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest("POST", "ftp://example.com/v1", strings.NewReader(chatBody))
			return r
		},
	}
	for i := 0; i < 5; i++ {
		for j, mk := range bad {
			decisions = decisions[:0]
			if _, err := tr.RoundTrip(mk()); err == nil {
				t.Fatalf("bad request %d: want an error", j)
			}
			for _, d := range decisions {
				if d == DecisionRetry {
					t.Fatalf("bad request %d was retried: %v", j, decisions)
				}
			}
		}
	}
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
	decisions = decisions[:0]
	resp, _, err := post(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(decisions) != 2 || decisions[0] != DecisionRetry {
		t.Errorf("after 20 bad requests, a 500 got %d with decisions %v, want a retry and 200", resp.StatusCode, decisions)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// TestBodyReadErrorIsNotRetried: a request body whose reader fails midway is
// the caller's failure, not the network's, even when GetBody could rewind it.
func TestBodyReadErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(503) // never a success: only the body's failure ends the attempt
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	var decisions []Decision
	var classes []Class
	tr := &Transport{Base: base, Policy: &Policy{Backoff: func(int) time.Duration { return time.Millisecond }},
		Observer: onAttempt(func(a AttemptInfo) {
			decisions, classes = append(decisions, a.Decision), append(classes, a.Verdict.Class)
		})}
	newBody := func() io.ReadCloser { return io.NopCloser(&failingReader{n: 100 << 10, err: boom}) }
	req, _ := http.NewRequest(http.MethodPost, srv.URL, newBody())
	req.ContentLength = 200 << 10
	req.GetBody = func() (io.ReadCloser, error) { return newBody(), nil }
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("want the body's error")
	}
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "reading request body") {
		t.Errorf("err = %v, want the body's read error, said to be one", err)
	}
	if len(decisions) != 1 || decisions[0] != DecisionNotRetryable || classes[0] != ClassInvalidRequest {
		t.Errorf("decisions %v classes %v, want one not_retryable invalid_request attempt", decisions, classes)
	}
}

// blockingBody blocks in Read until it is closed, as a pipe from a slow
// producer does.
type blockingBody struct {
	reading chan struct{} // closed at the first Read
	closed  chan struct{}
	once    atomic.Bool
	closes  atomic.Int32
}

func newBlockingBody() *blockingBody {
	return &blockingBody{reading: make(chan struct{}), closed: make(chan struct{})}
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if b.once.CompareAndSwap(false, true) {
		close(b.reading)
	}
	<-b.closed
	return 0, io.ErrClosedPipe
}

func (b *blockingBody) Close() error {
	if b.closes.Add(1) == 1 {
		close(b.closed)
	}
	return nil
}

// TestBufferingStopsWithContext: a body without GetBody that is slow to read
// is buffered only while the request's context lasts.
func TestBufferingStopsWithContext(t *testing.T) {
	t.Parallel()
	tr := &Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("the request was sent")
		return nil, errors.New("no")
	})}
	body := newBlockingBody()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1:1/v1", body)
	go func() {
		<-body.reading
		cancel()
	}()
	done := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(req)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		body.Close() // let the stuck RoundTrip go
		t.Fatal("RoundTrip still buffering the body 10 s after its context was cancelled")
	}
	if got := body.closes.Load(); got != 1 {
		t.Errorf("body closed %d times, want 1", got)
	}
}

// TestSwitchingProtocolsBodyStaysWritable: the body of a 101 answer is an
// io.ReadWriteCloser, whatever wraps it (attempt timeout, in-flight cap).
func TestSwitchingProtocolsBodyStaysWritable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name string
		pol  *Policy
	}{
		{"no wrapper", &Policy{}},
		{"attempt timeout", &Policy{AttemptTimeout: 5 * time.Second}},
		{"max in flight", &Policy{Limits: Limits{MaxInFlight: 2}}},
		{"both", &Policy{AttemptTimeout: 5 * time.Second, Limits: Limits{MaxInFlight: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			tr := &Transport{Base: base, Policy: tt.pol}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "echo")
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			rw, ok := resp.Body.(io.ReadWriteCloser)
			if resp.StatusCode != 101 || !ok {
				t.Fatalf("status %d, body %T: want 101 and an io.ReadWriteCloser", resp.StatusCode, resp.Body)
			}
			if _, err := io.WriteString(rw, "hello\n"); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(rw).ReadString('\n')
			if err != nil || line != "echo: hello\n" {
				t.Errorf("read %q, %v; want the echo", line, err)
			}
		})
	}
}

// TestAnswerAsAttemptTimeoutFires: an answer whose headers come just as the
// attempt timeout fires has a cancelled context, and so a dead body: it is
// a timeout, retried, never handed to the caller.
func TestAnswerAsAttemptTimeoutFires(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int32
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx := r.Context()
		if attempts.Add(1) == 1 {
			<-ctx.Done() // the timer fired: the headers arrive now
		}
		body := &ctxBody{ctx: ctx, r: strings.NewReader(llmretrytest.Completion)}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: body, Request: r}, nil
	})
	tr := &Transport{Base: base, Policy: &Policy{AttemptTimeout: 10 * time.Millisecond, Backoff: func(int) time.Duration { return 0 }}}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v1", strings.NewReader(chatBody))
	resp, body, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(body) != llmretrytest.Completion || attempts.Load() != 2 {
		t.Errorf("got %d %q after %d attempts, want the completion after a retry", resp.StatusCode, body, attempts.Load())
	}
}

// TestErrorAnswerReadWholeAsAttemptTimeoutFires: an error answer whose body
// was read whole just as the attempt timeout fired is kept, not retried:
// nothing of it is lost.
func TestErrorAnswerReadWholeAsAttemptTimeoutFires(t *testing.T) {
	t.Parallel()
	answer := llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Code: "invalid_value"})
	var attempts atomic.Int32
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		attempts.Add(1)
		body := &lateBody{ctx: r.Context(), b: answer.Body}
		return &http.Response{StatusCode: 400, Header: http.Header{}, Body: body, ContentLength: int64(len(answer.Body)), Request: r}, nil
	})
	tr := &Transport{Base: base, Policy: &Policy{AttemptTimeout: 10 * time.Millisecond, Backoff: func(int) time.Duration { return 0 }}}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v1", strings.NewReader(chatBody))
	resp, body, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || !bytes.Equal(body, answer.Body) || attempts.Load() != 1 {
		t.Errorf("got %d %q after %d attempts, want the 400 and its body after 1", resp.StatusCode, body, attempts.Load())
	}
}

// lateBody yields b in one read, once ctx is done: the last bytes of an
// answer arrive as the attempt timeout fires.
type lateBody struct {
	ctx  context.Context
	b    []byte
	done bool
}

func (l *lateBody) Read(p []byte) (int, error) {
	if l.done {
		return 0, l.ctx.Err() // the connection is gone
	}
	<-l.ctx.Done()
	l.done = true
	return copy(p, l.b), nil
}

func (l *lateBody) Close() error { return nil }

// ctxBody reads r while ctx lasts, as net/http's bodies do.
type ctxBody struct {
	ctx context.Context
	r   io.Reader
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (b *ctxBody) Close() error { return nil }

// TestCompressedErrorBodyIsClassified: an error body sent gzip or deflate
// encoded to a Base that does not decode it is decoded for classification;
// the caller gets the bytes as sent.
func TestCompressedErrorBodyIsClassified(t *testing.T) {
	t.Parallel()
	plain := []byte(`{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`)
	var gz, zl bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain)
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write(plain)
	z.Close()
	for _, tt := range []struct {
		enc  string
		body []byte
	}{{"gzip", gz.Bytes()}, {"x-gzip", gz.Bytes()}, {"deflate", zl.Bytes()}} {
		t.Run(tt.enc, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", tt.enc)
				w.WriteHeader(429)
				w.Write(tt.body)
			}))
			defer srv.Close()
			base := &http.Transport{DisableCompression: true}
			defer base.CloseIdleConnections()
			var verdicts []Verdict
			tr := &Transport{Base: base, Policy: &Policy{Backoff: func(int) time.Duration { return 0 }},
				Observer: onAttempt(func(a AttemptInfo) { verdicts = append(verdicts, a.Verdict) })}
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
			req.Header.Set("Accept-Encoding", "gzip, deflate")
			resp, body, err := do(t, tr, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(verdicts) != 1 || verdicts[0].Class != ClassQuotaExhausted || verdicts[0].Code != "insufficient_quota" {
				t.Errorf("verdicts = %+v, want one quota_exhausted attempt", verdicts)
			}
			if resp.StatusCode != 429 || !bytes.Equal(body, tt.body) {
				t.Errorf("caller got %d and %d bytes, want 429 and the %d bytes sent", resp.StatusCode, len(body), len(tt.body))
			}
		})
	}
}

// TestRetriedErrorSaysAttempts: when retries end on a transport error, the
// error says how many attempts were made and over how long, and the
// original error is still reachable with errors.Is and errors.As.
func TestRetriedErrorSaysAttempts(t *testing.T) {
	t.Parallel()
	tr, _, _ := setup(t, nil)
	_, _, err := post(t, tr, deadURL(t))
	if err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(err.Error(), "3 attempts in 1.125s") {
		t.Errorf("err = %q, want it to say 3 attempts in 1.125s (0.375 + 0.75 s of backoff)", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v: the dial error is lost", err)
	}

	// A *url.Error from the Base stays one; a timeout stays a timeout, also
	// through http.Client, whose url.Error asks its Err directly.
	tr, _, _ = setup(t, nil)
	tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: &timeoutErr{}}
	})
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v1", strings.NewReader(chatBody))
	_, err = tr.RoundTrip(req)
	ue, ok := err.(*url.Error)
	if !ok || !ue.Timeout() || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("err = %T %v, want a *url.Error, a timeout, after 3 attempts", err, err)
	}
	tr, _, _ = setup(t, nil)
	tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) { return nil, &timeoutErr{} })
	client := &http.Client{Transport: tr}
	_, err = client.Post("http://127.0.0.1:1/v1", "application/json", strings.NewReader(chatBody))
	if ue, ok := err.(*url.Error); !ok || !ue.Timeout() {
		t.Errorf("through http.Client: err = %v, want a timeout *url.Error", err)
	}

	// One attempt: the error as it came.
	tr.Base = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, syscall.ECONNREFUSED })
	req, _ = http.NewRequestWithContext(sendOnce(context.Background()), http.MethodPost, "http://127.0.0.1:1/v1", nil)
	if _, err = tr.RoundTrip(req); err != syscall.ECONNREFUSED {
		t.Errorf("one attempt: err = %v, want the Base's error itself", err)
	}
}

// TestBaseBreakingTheContract: a Base that returns a response and an error,
// or neither, or a response without a body, gets no panic and no leak.
func TestBaseBreakingTheContract(t *testing.T) {
	t.Parallel()
	closed := &countingBody{Reader: strings.NewReader("x")}
	tests := []struct {
		name string
		rt   roundTripFunc
		ok   bool
	}{
		{"response and error", func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: closed}, errors.New("both")
		}, false},
		{"neither", func(*http.Request) (*http.Response, error) { return nil, nil }, false},
		{"no body, no header", func(*http.Request) (*http.Response, error) { return &http.Response{StatusCode: 503}, nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &Transport{Base: tt.rt, Policy: &Policy{Backoff: func(int) time.Duration { return 0 }}}
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v1", strings.NewReader(chatBody))
			resp, err := tr.RoundTrip(req)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want error %v", err, !tt.ok)
			}
			if resp != nil {
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
		})
	}
	if got := closed.closes.Load(); got != 3 {
		t.Errorf("the bodies of responses returned with an error were closed %d times, want 3 (one an attempt)", got)
	}
}
