package llmretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

type observedKey struct{}

// recorder is an Observer that records what it is told.
type recorder struct {
	mu      sync.Mutex // guards the fields below
	starts  []int
	ends    []AttemptInfo
	states  []AttemptInfo // the same, for the pacing and budget state
	paced   []PacingWait
	closed  int
	baseCtx []any // the observedKey value each attempt's context had in Base
}

func (rec *recorder) observer() *Observer {
	return &Observer{
		AttemptStart: func(r *http.Request, attempt int) *http.Request {
			rec.mu.Lock()
			rec.starts = append(rec.starts, attempt)
			rec.mu.Unlock()
			return r.WithContext(context.WithValue(r.Context(), observedKey{}, attempt))
		},
		AttemptEnd: func(a AttemptInfo, resp *http.Response) {
			rec.mu.Lock()
			rec.ends = append(rec.ends, a)
			rec.states = append(rec.states, a)
			rec.mu.Unlock()
			if resp != nil {
				resp.Body = &observedBody{ReadCloser: resp.Body, rec: rec}
			}
		},
		Paced: func(_ context.Context, w PacingWait) {
			rec.mu.Lock()
			rec.paced = append(rec.paced, w)
			rec.mu.Unlock()
		},
	}
}

type observedBody struct {
	io.ReadCloser
	rec *recorder
}

func (c *observedBody) Close() error {
	c.rec.mu.Lock()
	c.rec.closed++
	c.rec.mu.Unlock()
	return c.ReadCloser.Close()
}

// baseFunc is a RoundTripper made of a function.
type baseFunc func(*http.Request) (*http.Response, error)

func (f baseFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestObserverSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	rec := &recorder{}
	tr.Observer = rec.observer()
	inner := tr.Base
	tr.Base = baseFunc(func(r *http.Request) (*http.Response, error) {
		rec.mu.Lock()
		rec.baseCtx = append(rec.baseCtx, r.Context().Value(observedKey{}))
		rec.mu.Unlock()
		return inner.RoundTrip(r)
	})
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError(), llmretrytest.Dialect("openai").RateLimit(1))

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions?key=sk-query-secret", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	resp, _, err := do(t, tr, req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v; want a 200", resp, err)
	}
	if req.Context().Value(observedKey{}) != nil {
		t.Error("the caller's request got the Observer's context")
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got, want := len(rec.starts), 3; got != want {
		t.Fatalf("AttemptStart called %d times, want %d", got, want)
	}
	for i := range rec.starts {
		n := i + 1
		if rec.starts[i] != n || rec.baseCtx[i] != n || rec.ends[i].Context.Value(observedKey{}) != n {
			t.Errorf("attempt %d: start %d, Base saw %v, AttemptEnd saw %v; want the attempt's own context everywhere",
				n, rec.starts[i], rec.baseCtx[i], rec.ends[i].Context.Value(observedKey{}))
		}
	}
	wantDecisions := []Decision{DecisionRetry, DecisionRetry, DecisionSuccess}
	for i, a := range rec.ends {
		if a.Decision != wantDecisions[i] || a.Attempt != i+1 {
			t.Errorf("AttemptEnd %d: attempt %d, %v; want attempt %d, %v", i, a.Attempt, a.Decision, i+1, wantDecisions[i])
		}
	}
	// Two discarded attempts closed by the Transport, the last by do.
	if got, want := rec.closed, 3; got != want {
		t.Errorf("%d wrapped bodies closed, want %d: every attempt's body, discarded or returned", got, want)
	}
	for i, s := range rec.states {
		if !strings.HasPrefix(s.Key, "generic:") || strings.Contains(s.Key, "secret") {
			t.Errorf("State %d: key %q, want the policy's name and a hash of the credential", i, s.Key)
		}
		if !s.HasBudget || s.Budget <= 0 {
			t.Errorf("State %d: budget %v (has %v), want retries left", i, s.Budget, s.HasBudget)
		}
	}
	if b0, b1 := rec.states[0].Budget, rec.states[2].Budget; !(b1 > b0) {
		t.Errorf("budget after a 500: %v, after the success: %v; want more after the success", b0, b1)
	}
	if got, want := len(rec.paced), 3; got != want {
		t.Fatalf("Paced called %d times, want one per attempt", got)
	}
	for i, w := range rec.paced {
		if w.Attempt != i+1 || w.Key != rec.states[0].Key || w.Policy != "generic" || w.Err != nil {
			t.Errorf("Paced %d = %+v, want attempt %d on key %q", i, w, i+1, rec.states[0].Key)
		}
	}
	// The 429 with Retry-After: 1 pauses the key: the next attempt's pacing
	// wait covers what is left of the pause after the Transport's own wait
	// of the same length, so it is short; the waits are fake time.
	if rec.paced[2].Wait < 0 || rec.paced[2].Wait > time.Second {
		t.Errorf("pacing wait after the 429 = %v, want within the hint", rec.paced[2].Wait)
	}
}

func TestObserverLearnedLimit(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	rec := &recorder{}
	tr.Observer = rec.observer()
	h := http.Header{}
	h.Set("X-Ratelimit-Limit-Requests", "600")
	h.Set("X-Ratelimit-Remaining-Requests", "599")
	h.Set("X-Ratelimit-Reset-Requests", "100ms")
	srv.Enqueue(llmretrytest.Step{Status: 200, Header: h, Body: []byte(llmretrytest.Completion)})
	if _, _, err := post(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.states) != 1 || rec.states[0].Pace.RequestRate <= 0 {
		t.Fatalf("states = %+v, want the request rate learned from the headers", rec.states)
	}
}

func TestObserverPacingFailure(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, &Policy{Limits: Limits{RequestsPerMinute: 1, RequestBurst: 1}})
	rec := &recorder{}
	tr.Observer = rec.observer()
	if _, _, err := post(t, tr, srv.URL); err != nil { // takes the only token
		t.Fatal(err)
	}
	ctx, cancel := timeoutCtx(5 * time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	last := rec.paced[len(rec.paced)-1]
	if !errors.Is(last.Err, ErrDeadline) || last.Attempt != 1 {
		t.Errorf("last Paced = %+v, want the ErrDeadline that ended the request before its first attempt", last)
	}
	if got, want := len(rec.starts), 1; got != want {
		t.Errorf("AttemptStart called %d times, want %d: the refused request sends nothing", got, want)
	}
}

func TestObserverPartialAndNil(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]*Observer{
		"empty":             {},
		"start returns nil": {AttemptStart: func(*http.Request, int) *http.Request { return nil }},
		"end only":          {AttemptEnd: func(AttemptInfo, *http.Response) {}},
	} {
		t.Run(name, func(t *testing.T) {
			tr, srv, _ := setup(t, nil)
			tr.Observer = o
			srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
			resp, _, err := post(t, tr, srv.URL)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("RoundTrip = %v, %v; want a 200 after a retry", resp, err)
			}
		})
	}
}

func TestObserverNoCredential(t *testing.T) {
	t.Parallel()
	const secret = "sk-observer-S3CR3T-0123456789"
	tr, srv, _ := setup(t, nil)
	rec := &recorder{}
	tr.Observer = rec.observer()
	srv.Enqueue(llmretrytest.Dialect("openai").RateLimit(1), llmretrytest.Dialect("openai").ServerError())
	for _, h := range []string{"Authorization", "X-Api-Key"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions?key="+secret, strings.NewReader(chatBody))
		req.Header.Set(h, "Bearer "+secret)
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.states {
		if strings.Contains(fmt.Sprintf("%+v", s), secret) {
			t.Errorf("State leaks the key: %+v", s)
		}
	}
	for _, w := range rec.paced {
		if strings.Contains(fmt.Sprintf("%+v", w), secret) {
			t.Errorf("PacingWait leaks the key: %+v", w)
		}
	}
	for _, a := range rec.ends {
		a.Context = nil
		if strings.Contains(fmt.Sprintf("%+v %v", a, a.Verdict.Err), secret) {
			t.Errorf("AttemptInfo leaks the key: %+v", a)
		}
	}
	if len(rec.states) < 4 {
		t.Errorf("%d attempts observed, want at least 4", len(rec.states))
	}
}
