package llmretry

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
	"github.com/llmretry/llmretry/llmretrytest"
)

// fakeTime is an injected clock: sleeps return at once and advance now.
type fakeTime struct {
	mu    sync.Mutex // guards now and waits
	now   time.Time
	waits []time.Duration
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeTime) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// setup starts a fake provider and a Transport with policy pol (nil: the
// generic one) on a fresh connection pool, with fake time and r = 0.5. The
// test fails if goroutines it started outlive it (leakcheck.Check: call setup
// before registering cleanups of your own).
func setup(t *testing.T, pol *Policy) (*Transport, *llmretrytest.Server, *fakeTime) {
	t.Helper()
	leakcheck.Check(t)
	srv := llmretrytest.Start(t)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	ft := &fakeTime{now: time.Now()}
	tr := &Transport{Base: base, Policy: pol, seams: seams{now: ft.Now, sleep: ft.Sleep, rand: func() float64 { return 0.5 }}}
	return tr, srv, ft
}

const chatBody = `{"model":"fake-model","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}`

// post sends a chat completion request through tr and reads the whole answer.
func post(t *testing.T, tr http.RoundTripper, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	return do(t, tr, req)
}

// postOnce sends, as post does (its key), one request that is not retried
// (sendOnce), and returns its status, 0 on an error (reported).
func postOnce(t *testing.T, tr http.RoundTripper, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(sendOnce(context.Background()), http.MethodPost,
		url+"/v1/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	resp, _, err := do(t, tr, req)
	if err != nil {
		t.Errorf("another request: %v", err)
		return 0
	}
	return resp.StatusCode
}

func do(t *testing.T, tr http.RoundTripper, req *http.Request) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, b, nil
}

// countingBody is a request body that counts its Close calls.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (c *countingBody) Close() error { c.closes.Add(1); return nil }

func hash(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func bg() context.Context { return context.Background() }

func timeoutCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// onAttempt is an Observer that calls f after every attempt.
func onAttempt(f func(AttemptInfo)) *Observer {
	return &Observer{AttemptEnd: func(a AttemptInfo, _ *http.Response) { f(a) }}
}

// sendOnce makes a request go once: no retry, no fallback.
func sendOnce(ctx context.Context) context.Context { return WithoutFallback(WithMaxRetries(ctx, 0)) }

// testNow is the fixed time of tests that need a "now" but no clock.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// response is an answer of status with headers h (nil: none) and body.
func response(status int, h http.Header, body string) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}
}

// roundTripFunc is a Base written as a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pacerOf returns the pacer that req is paced by under pol: for its host,
// credential and (under a policy that configures no limit) model, read from
// its body as RoundTrip reads it.
func pacerOf(tr *Transport, pol *Policy, req *http.Request) *pacer {
	rt := route{req: req, pol: pol}
	var first io.Reader // a request already sent has its body read: GetBody's is whole
	if req.GetBody == nil {
		first = req.Body
	}
	tr.setup(&rt, req.GetBody, requestOptions{}, first)
	return rt.pacer
}
