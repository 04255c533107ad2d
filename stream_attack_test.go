package llmretry

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
	"github.com/llmretry/llmretry/llmretrytest"
)

// silentAfter is step with its connection held open, silent, after its
// whole body: a live stream that will send nothing more (until the client
// goes away).
func silentAfter(step llmretrytest.Step) llmretrytest.Step {
	step.Stall, step.StallAfter = time.Hour, len(step.Body)
	return step
}

// roundTripWithin runs tr.RoundTrip(req) and reads the answer; if that has
// not returned after limit (the bound of a test that would otherwise hang),
// it cancels the request and fails the test.
func roundTripWithin(t *testing.T, tr http.RoundTripper, req *http.Request, limit time.Duration) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	req = req.WithContext(ctx)
	type result struct {
		resp *http.Response
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- result{resp, body, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.resp, r.body, r.err
	case <-timer.C:
		cancel()
		<-done
		t.Fatalf("RoundTrip still running after %v", limit)
		return nil, nil, nil
	}
}

// An error event followed by silence on a live stream is retried at once: the
// old stream is closed, never drained (issue 21, item 1). Each case would
// hang until its deadline, or for good without one, if the retry waited on
// the first stream. The guard is 10 s; the retry takes milliseconds.
func TestStreamErrorEventThenSilence(t *testing.T) {
	t.Parallel()
	overloaded := silentAfter(llmretrytest.Dialect("anthropic").AbortedStream(0))
	tests := []struct {
		name      string
		pol       func(*Policy)
		ctx       func(context.Context) (context.Context, context.CancelFunc)
		wantTrail string
	}{
		{"no deadline", nil, nil, "retry@ success@"},
		{"a deadline", nil, func(c context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(c, time.Minute)
		}, "retry@ success@"},
		{"AttemptTimeout", func(p *Policy) { p.AttemptTimeout = time.Minute }, nil, "retry@ success@"},
		{"FirstTokenTimeout", func(p *Policy) { p.FirstTokenTimeout = time.Minute }, nil, "retry@ success@"},
		{"per-request first-token timeout and a deadline", nil, func(c context.Context) (context.Context, context.CancelFunc) {
			c, cancel := context.WithTimeout(c, time.Minute)
			return WithFirstTokenTimeout(c, time.Minute), cancel
		}, "retry@ success@"},
		{"MaxInFlight 1", func(p *Policy) { p.Limits = Limits{MaxInFlight: 1, DisableLearning: true} }, nil, "retry@ success@"},
		{"a fallback", func(p *Policy) { p.Fallbacks = []Target{{Model: "claude-small"}} }, nil, "fallback@ success@claude-small"},
		{"a fallback, with both timeouts and a deadline", func(p *Policy) {
			p.Fallbacks = []Target{{Model: "claude-small"}}
			p.AttemptTimeout, p.FirstTokenTimeout = time.Minute, time.Minute
		}, func(c context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(c, time.Minute)
		}, "fallback@ success@claude-small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := anthropicPolicy()
			if tt.pol != nil {
				tt.pol(pol)
			}
			tr, srv, _ := setup(t, pol)
			var at attempts
			tr.Observer = onAttempt(at.hook)
			srv.Enqueue(overloaded)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx(ctx)
			}
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
			resp, body, err := roundTripWithin(t, tr, req, 10*time.Second)
			if err != nil || resp.StatusCode != 200 || string(body) != llmretrytest.MessageStream {
				t.Fatalf("err %v, body %q: want the second attempt's stream", err, body)
			}
			if got := at.trail(); got != tt.wantTrail {
				t.Errorf("attempts %q, want %q", got, tt.wantTrail)
			}
			if pol.Limits.MaxInFlight == 1 {
				// The key's one slot is free again: another request goes through.
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
				if _, _, err := roundTripWithin(t, tr, req, 10*time.Second); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	t.Run("ReturnErrors closes the last one unread", func(t *testing.T) {
		t.Parallel()
		pol := anthropicPolicy()
		pol.MaxRetries = -1
		tr, srv, _ := setup(t, pol)
		tr.ReturnErrors = true
		srv.Enqueue(overloaded)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
		_, _, err := roundTripWithin(t, tr, req, 10*time.Second)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Class != ClassOverloaded {
			t.Fatalf("err = %v, want an Overloaded APIError", err)
		}
	})
}

// A second attack round on streams: hostile event streams, cancellation
// during the first-event read, fallback after a stream error.
func TestStreamAttackRound(t *testing.T) {
	t.Parallel()
	overloadedEvent := llmretrytest.Dialect("anthropic").AbortedStream(0).Body
	t.Run("a gzip stream (decoded by net/http): error event, then silence", func(t *testing.T) {
		t.Parallel()
		leakcheck.Check(t)
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			if n.Add(1) == 1 {
				zw.Write(overloadedEvent)
				zw.Flush()
				w.(http.Flusher).Flush()
				<-r.Context().Done() // live and silent until the client goes
				return
			}
			zw.Write([]byte(llmretrytest.MessageStream))
			zw.Close()
		}))
		defer srv.Close()
		base := &http.Transport{}
		defer base.CloseIdleConnections()
		tr := &Transport{Base: base, Policy: anthropicPolicy(), seams: seams{sleep: (&fakeTime{}).Sleep}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
		resp, body, err := roundTripWithin(t, tr, req, 10*time.Second)
		if err != nil || string(body) != llmretrytest.MessageStream || n.Load() != 2 {
			t.Fatalf("err %v, %d requests, body %q: want the retry's stream", err, n.Load(), body)
		}
		if !resp.Uncompressed {
			t.Error("not decoded by net/http: the test does not test the decoded case")
		}
	})
	t.Run("cancellation during the first-event read", func(t *testing.T) {
		t.Parallel()
		for _, pol := range []*Policy{{}, {AttemptTimeout: time.Minute, FirstTokenTimeout: time.Minute}} {
			tr, srv, _ := setup(t, pol)
			partial := llmretrytest.Step{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
				Body: []byte("data: {\"choices\":[{\"delta\":"), Stall: time.Hour}
			partial.StallAfter = len(partial.Body)
			srv.Enqueue(partial)
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(streamReqBody))
			var at attempts
			tr.Observer = onAttempt(at.hook)
			go func() {
				for len(srv.Requests()) == 0 {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(10 * time.Millisecond) // most likely in the first-event read by now; either way the answer is the same
				cancel()
			}()
			_, _, err := roundTripWithin(t, tr, req, 10*time.Second)
			if !errors.Is(err, context.Canceled) || len(srv.Requests()) != 1 {
				t.Errorf("%+v: err %v after %d requests; want context.Canceled after 1", pol, err, len(srv.Requests()))
			}
			if len(at.all) != 1 || at.all[0].Decision != DecisionContextDone {
				t.Errorf("%+v: attempts %q, want one, context done", pol, at.trail())
			}
		}
	})
	t.Run("every target's stream fails: the last reaches the caller whole, and ends", func(t *testing.T) {
		t.Parallel()
		pol := anthropicPolicy()
		pol.MaxRetries = -1
		pol.Fallbacks = []Target{{Model: "claude-small"}, {Model: "claude-tiny"}}
		tr, srv, _ := setup(t, pol)
		var at attempts
		tr.Observer = onAttempt(at.hook)
		last := llmretrytest.Dialect("anthropic").AbortedStream(0)
		srv.Enqueue(silentAfter(last), silentAfter(last), last)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
		resp, body, err := roundTripWithin(t, tr, req, 10*time.Second)
		if err != nil || resp.StatusCode != 200 || string(body) != string(last.Body) {
			t.Fatalf("err %v, body %q; want the last target's error stream", err, body)
		}
		if got, want := at.trail(), "fallback@ fallback@claude-small retries_exhausted@claude-tiny"; got != want {
			t.Errorf("attempts %q, want %q", got, want)
		}
	})
	t.Run("an error event in 1-byte pieces, then silence, with MaxInFlight 1 and concurrent callers", func(t *testing.T) {
		t.Parallel()
		pol := anthropicPolicy()
		pol.Limits = Limits{MaxInFlight: 1, DisableLearning: true}
		// One caller may draw all three error streams (the slot is not
		// handed out in order): enough retries that any order succeeds.
		pol.MaxRetries = 3
		tr, srv, _ := setup(t, pol)
		var at attempts
		tr.Observer = onAttempt(at.hook)
		step := silentAfter(llmretrytest.Dialect("anthropic").AbortedStream(0))
		step.Chunk = 1
		srv.Enqueue(step, step, step)
		// Canceled when the test ends, so that a caller handed a silent
		// stream (the failure this case looks for) does not hang the
		// server's Close.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
				resp, err := tr.RoundTrip(req)
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && string(b) != llmretrytest.MessageStream {
						err = fmt.Errorf("body %q", b)
					}
				}
				errs <- err
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
			t.Fatalf("callers still waiting after 10s; attempts %q", at.trail()) // the slot held by a silent stream
		}
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("%v; attempts %q", err, at.trail())
			}
		}
	})
}
