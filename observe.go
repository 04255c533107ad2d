package llmretry

import (
	"context"
	"net/http"
	"time"
)

// An Observer is told what a [Transport] does with each request: when an
// attempt starts (so that a span can cover it), what each attempt got and
// what the Transport does next, with the pacing and retry budget state after
// it, and how long pacing held the request. It is the hook for metrics,
// tracing and tests; the otel module (github.com/llmretry/llmretry/otel)
// builds one that records OpenTelemetry metrics and spans.
//
// Each non-nil field is called on the request's goroutine, possibly by many
// goroutines at once. A nil field, and a nil Observer, cost nothing.
// Apart from the request given to AttemptStart (the caller's, with its
// credentials: keep none of its header values or its query), nothing an
// Observer is given holds a header value, a query string or a credential.
type Observer struct {
	// AttemptStart is called just before each attempt is sent, after its
	// pacing wait, with the attempt's request and number (1 for the
	// first). It returns the request to send: r itself, or a copy made
	// with r.WithContext or r.Clone (e.g. with a span in its context, and
	// trace headers set on the clone). It must not modify r, which may be
	// the caller's request, nor read its body. The returned request's
	// context is the attempt's: Base gets it, and so do AttemptEnd and
	// the Logger, as AttemptInfo.Context.
	AttemptStart func(r *http.Request, attempt int) *http.Request

	// AttemptEnd is called after every attempt with what it got, what
	// the Transport does next and the state of the request's pacing key
	// and retry budget, and the attempt's response (nil after a transport
	// error). It may replace resp.Body with a wrapper that forwards every
	// call (e.g. to end a span when the body is closed: the caller closes
	// a returned response, the Transport a discarded one), but must not
	// read the body or keep resp.
	AttemptEnd func(a AttemptInfo, resp *http.Response)

	// Paced is called after each wait for client-side pacing (which may
	// have taken no time), and when such a wait ended the request: then
	// Err is what RoundTrip returns. A target passed over for a fallback
	// (its pace cannot let the request go before the deadline, or, with
	// FallbackOnRateLimit, the server has paused its key) is not told.
	Paced func(ctx context.Context, w PacingWait)
}

// PacingWait is one wait for client-side pacing, for [Observer].Paced.
type PacingWait struct {
	Policy  string        // the policy's name
	Key     string        // the pacing key, as in [AttemptInfo]
	Attempt int           // the attempt that waited, 1 for the first
	Wait    time.Duration // how long the request was held
	Err     error         // non-nil if the wait ended the request
}

// acquire waits for the pacer, telling the Observer how long it took.
// Without a pacer (the policy paces nothing) there is no wait to tell of.
func (t *Transport) acquire(ctx context.Context, p *pacer, pol *Policy, cost, attempt int) error {
	if p == nil {
		return nil
	}
	if t.Observer == nil || t.Observer.Paced == nil {
		return p.acquire(ctx, cost, t.clock())
	}
	start := t.clock()
	err := p.acquire(ctx, cost, start)
	t.Observer.Paced(ctx, PacingWait{Policy: pol.name(), Key: p.key, Attempt: attempt, Wait: t.clock().Sub(start), Err: err})
	return err
}

// pacingWait is the outcome of a wait for a route's pacer, not yet told to
// the Observer: a wait that fails may pass the route over for another.
type pacingWait struct {
	attempt int
	wait    time.Duration
	err     error
}

// passable reports whether w's error passes its target over for the next
// one, rather than ending the request: any failure but the context's, such
// as a configured pace that cannot let the request go before the deadline
// (ErrDeadline), a Limiter's own error, or errPaused.
func (w pacingWait) passable(ctx context.Context) bool {
	return w.err != nil && ctx.Err() == nil
}

// pace waits for rt's pacer, as acquire does, without telling the Observer
// (see paced); with passPause, a key the server has paused fails it at once
// with errPaused.
func (t *Transport) pace(ctx context.Context, rt *route, attempt int, passPause bool) pacingWait {
	if rt.pacer == nil {
		return pacingWait{attempt: attempt}
	}
	start := t.clock()
	err := rt.pacer.acquireOr(ctx, rt.paceCost(t), start, passPause)
	return pacingWait{attempt: attempt, wait: t.clock().Sub(start), err: err}
}

// paced tells the Observer of w, a wait for rt's pacer.
func (t *Transport) paced(ctx context.Context, rt *route, w pacingWait) {
	if rt.pacer != nil && t.Observer != nil && t.Observer.Paced != nil {
		t.Observer.Paced(ctx, PacingWait{Policy: rt.pol.name(), Key: rt.pacer.key, Attempt: w.attempt, Wait: w.wait, Err: w.err})
	}
}

// attemptStart gives the Observer the attempt before it is sent, and returns
// the request to send.
func (t *Transport) attemptStart(r *http.Request, attempt int) *http.Request {
	if t.Observer == nil || t.Observer.AttemptStart == nil {
		return r
	}
	if ar := t.Observer.AttemptStart(r, attempt); ar != nil {
		return ar
	}
	return r
}

// attemptEnd gives the Observer an attempt's outcome and the state after it.
func (t *Transport) attemptEnd(a AttemptInfo, resp *http.Response, p *pacer, b *budget, now time.Time) {
	if p != nil {
		a.Key = p.key
		a.Pace, _ = p.limit(now)
	}
	if b != nil {
		a.Budget, a.HasBudget = b.available(), true
	}
	t.Observer.AttemptEnd(a, resp)
}
