package llmretry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
	overloaded := silentAfter(llmretrytest.Anthropic.AbortedStream(0))
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
			pol := Anthropic()
			if tt.pol != nil {
				tt.pol(pol)
			}
			tr, srv, _ := setup(t, pol)
			var at attempts
			tr.OnAttempt = at.hook
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
		pol := Anthropic()
		pol.MaxRetries = -1
		tr, srv, _ := setup(t, pol)
		tr.ReturnErrors = true
		srv.Enqueue(overloaded)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(streamReqBody))
		_, _, err := roundTripWithin(t, tr, req, 10*time.Second)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Class != Overloaded {
			t.Fatalf("err = %v, want an Overloaded APIError", err)
		}
	})
}
