package integration

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	"go.uber.org/goleak"
)

// TestMain fails the binary if goroutines outlive the tests (the SDKs' and
// ours). The tests are parallel, so there is no per-test check.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder sits between an SDK and llmretry and keeps the bytes of every
// response body the SDK reads, to prove they pass through unchanged.
type recorder struct {
	next http.RoundTripper

	mu     sync.Mutex // guards bodies
	bodies []*bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	buf := &bytes.Buffer{}
	r.mu.Lock()
	r.bodies = append(r.bodies, buf)
	r.mu.Unlock()
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, buf), resp.Body}
	return resp, nil
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		return ""
	}
	return r.bodies[len(r.bodies)-1].String()
}

// setup starts a fake provider and an http.Client whose transport is
// llmretry (under a recorder), with SDK-independent fast retries.
func setup(t *testing.T) (*llmretrytest.Server, *http.Client, *recorder) {
	t.Helper()
	srv := llmretrytest.Start(t)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	rec := &recorder{next: &llmretry.Transport{Base: base}}
	return srv, &http.Client{Transport: rec}, rec
}

// rateLimited is a 429 whose JSON body says retry_after 0.05 s.
func rateLimited(d llmretrytest.Dialect) llmretrytest.Step {
	if d == llmretrytest.Dialect("anthropic") {
		return llmretrytest.Step{Status: 429, Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit.","retry_after":0.05}}`)}
	}
	return llmretrytest.Step{Status: 429, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"error":{"type":"rate_limit_exceeded","code":"rate_limit_exceeded","message":"Rate limit reached.","param":null,"retry_after":0.05}}`)}
}
