package llmretry

import (
	"context"
	"io"
	"net/http"
	"time"
)

// admit waits until the attempt r may be sent, and returns the request to
// send: r, on the call's target, or the first request of a later fallback
// when the call passes its target over. A call that falls back on rate
// limits (FallbackOnRateLimit) passes over a target whose key the server
// has paused (a 429's hint, its own or another request's: the hint is
// waited out on the same target only by requests that cannot fall back, or
// when no fallback can go), or whose pacing fails (a configured pace that
// cannot let it go before the deadline). r's body is closed when it is not
// sent.
func (t *Transport) admit(c *call, r *http.Request, attempt int) (*http.Request, error) {
	if c.admitted {
		c.admitted = false
		return r, nil
	}
	if c.poolOf != nil && attempt > 1 {
		var err error
		if r, err = t.repick(c, r); err != nil {
			return r, err
		}
	}
	if c.next >= len(c.fallbacks) || !c.body.replayable || !c.primary.FallbackOnRateLimit {
		err := t.acquire(c.ctx, c.pacer, c.pol, c.paceCost(t), attempt)
		c.freed = err != nil
		return r, err
	}
	w := t.pace(c.ctx, &c.route, attempt, true)
	if !w.passable(c.ctx) {
		t.paced(c.ctx, &c.route, w)
		c.freed = w.err != nil
		return r, w.err
	}
	rt, first, ok, err := t.runnable(c, attempt, false)
	switch {
	case err != nil:
		return r, err
	case ok:
		closeBody(r.Body)
		c.enter(rt)
		c.admitted = false // runnable waited
		return c.retryRequest(first), nil
	case w.err != errPaused:
		t.paced(c.ctx, &c.route, w) // no target can send in time: the wait's error ends the request
		return r, w.err
	}
	err = t.acquire(c.ctx, c.pacer, c.pol, c.paceCost(t), attempt) // every fallback paused too: wait out the pause
	c.freed = err != nil
	return r, err
}

// runnable returns the first of the call's remaining fallbacks that can send
// in time, after its pacing wait, with the body of its first attempt. A
// target whose pacing fails (a configured pace that cannot let it go before
// the deadline, a Limiter's error) is passed over for good; with
// FallbackOnRateLimit, so is a target whose key the server has paused,
// unless no later one can go: then the first of them is waited for if
// orPaused, else none is returned. An error is the context's, ended during
// a pacing wait.
func (t *Transport) runnable(c *call, attempt int, orPaused bool) (route, io.ReadCloser, bool, error) {
	onRate := c.primary.FallbackOnRateLimit
	var paused *route // the first target passed over for its pause
	var pausedFirst io.ReadCloser
	for {
		rt, first, ok := t.nextTarget(c.orig, c.origBody, c.primary, &c.next, c.opts)
		if !ok {
			break
		}
		ok, isPaused, err := t.paceTarget(c.ctx, &rt, attempt, onRate)
		switch {
		case ok:
			closeBody(pausedFirst)
			return rt, first, true, nil
		case err != nil:
			closeBody(first)
			closeBody(pausedFirst)
			return route{}, nil, false, err
		case isPaused && paused == nil:
			paused, pausedFirst = &rt, first
		default:
			closeBody(first)
		}
	}
	if paused == nil {
		return route{}, nil, false, nil
	}
	if orPaused {
		if ok, _, err := t.paceTarget(c.ctx, paused, attempt, false); ok || err != nil {
			if ok {
				return *paused, pausedFirst, true, nil
			}
			closeBody(pausedFirst)
			return route{}, nil, false, err
		}
	}
	closeBody(pausedFirst)
	return route{}, nil, false, nil
}

// paceTarget waits for the pacing of rt's next attempt, and reports whether
// it may be sent. A target passed over (see pacingWait.passable) is not told
// to the Observer; paused says it was passed over for the server's pause
// (passPaused). An error ends the request.
func (t *Transport) paceTarget(ctx context.Context, rt *route, attempt int, passPaused bool) (ok, paused bool, err error) {
	w := t.pace(ctx, rt, attempt, passPaused)
	if w.passable(ctx) {
		return false, w.err == errPaused, nil
	}
	t.paced(ctx, rt, w)
	return w.err == nil, false, w.err
}

// acquire waits for the pacer, telling the Observer how long it took.
// Without a pacer (the policy paces nothing) there is no wait to tell of.
func (t *Transport) acquire(ctx context.Context, p *pacer, pol *Policy, cost, attempt int) error {
	if p == nil {
		return nil
	}
	if t.Observer == nil || t.Observer.Paced == nil {
		return p.acquireOr(ctx, cost, t.clock(), sentIf(attempt))
	}
	start := t.clock()
	err := p.acquireOr(ctx, cost, start, sentIf(attempt))
	t.Observer.Paced(ctx, PacingWait{Policy: pol.name(), Key: p.key, Attempt: attempt,
		Priority: optionsFrom(ctx).priority, Wait: t.clock().Sub(start), Err: err})
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

// paced tells the Observer of w, a wait for rt's pacer.
func (t *Transport) paced(ctx context.Context, rt *route, w pacingWait) {
	if rt.pacer != nil && t.Observer != nil && t.Observer.Paced != nil {
		t.Observer.Paced(ctx, PacingWait{Policy: rt.pol.name(), Key: rt.pacer.key, Attempt: w.attempt,
			Priority: optionsFrom(ctx).priority, Wait: w.wait, Err: w.err})
	}
}

// pace waits for rt's pacer, as acquire does, without telling the Observer
// (see paced); with passPaused, a key the server has paused fails it at once
// with errPaused.
func (t *Transport) pace(ctx context.Context, rt *route, attempt int, passPaused bool) pacingWait {
	if rt.pacer == nil {
		return pacingWait{attempt: attempt}
	}
	cost := rt.paceCost(t) // before the clock starts: estimating reads the body
	start := t.clock()
	how := sentIf(attempt)
	if passPaused {
		how |= passPause
	}
	err := rt.pacer.acquireOr(ctx, cost, start, how)
	return pacingWait{attempt: attempt, wait: t.clock().Sub(start), err: err}
}
