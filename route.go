package llmretry

import (
	"context"
	"io"
	"net/http"
	"time"
)

// route is where a request's attempts go: its own endpoint and model, or
// one of its policy's fallbacks. Each has its own policy, pacer and budget.
type route struct {
	name string        // the Target's name; "" for the request's own target
	away bool          // the target is another endpoint (Target.BaseURL)
	req  *http.Request // the request of its attempts (headers, URL); bodies are set per attempt
	get  func() (io.ReadCloser, error)

	pol     *Policy
	pacer   *pacer  // nil when the policy paces nothing
	budget  *budget // nil when the policy has no retry budget
	cost    int     // the request's tokens, for pacing
	costed  bool    // cost was estimated (tokens were paced when it was last needed)
	retries int     // the MaxRetries in force
	bounds  bounds  // the attempt and first-token timeouts in force
	tries   int     // attempts made on this target
}

// bounds are the time limits of one attempt.
type bounds struct {
	attempt    time.Duration // headers, and an error's body prefix or a stream's first event; 0: none
	firstToken time.Duration // a stream's first event; 0: none
	stream     bool          // the request asks for a stream: firstToken bounds its headers too
}

// setup fills in the route's limits, pacer and budget for a request with
// options o, whose body get gives; rt.req and rt.pol are set.
func (t *Transport) setup(rt *route, get func() (io.ReadCloser, error), o requestOptions) {
	rt.get = get
	rt.retries = rt.pol.maxRetries()
	if o.hasMaxRetries {
		rt.retries = o.maxRetries
	}
	rt.bounds.attempt = rt.pol.attemptTimeout()
	if o.hasTimeout {
		rt.bounds.attempt = o.attemptTimeout
	}
	rt.bounds.firstToken = rt.pol.firstTokenTimeout()
	if o.hasFirstToken {
		rt.bounds.firstToken = o.firstToken
	}
	if rt.bounds.firstToken > 0 {
		rt.bounds.stream = wantsStream(rt.req, get, t.maxBodyBuffer())
	}
	rt.pacer = t.pacers.get(t, rt.pol, rt.req)
	rt.budget = t.budgets.get(rt.pol)
	rt.cost, rt.costed = 1, false
	rt.paceCost(t)
}

// nextTarget returns the first of the fallbacks from index *next on that req
// can be sent to, with the body of its first attempt, and advances *next
// past it. Fallbacks that do not fit the request are skipped.
func (t *Transport) nextTarget(req *http.Request, get func() (io.ReadCloser, error), pol *Policy, next *int, o requestOptions) (route, io.ReadCloser, bool) {
	for *next < len(pol.Fallbacks) {
		i := *next
		*next++
		fb := &pol.Fallbacks[i]
		r, fget, err := fallbackRequest(req, get, t.maxBodyBuffer(), fb)
		if err != nil {
			continue
		}
		var first io.ReadCloser
		if fget != nil {
			if first, err = fget(); err != nil {
				continue
			}
		}
		rt := route{name: fb.name(), away: fb.BaseURL != "", req: r, pol: t.fallbackPolicy(pol, i, r)}
		t.setup(&rt, fget, o)
		return rt, first, true
	}
	return route{}, nil, false
}

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
// (passPause). An error ends the request.
func (t *Transport) paceTarget(ctx context.Context, rt *route, attempt int, passPause bool) (ok, paused bool, err error) {
	w := t.pace(ctx, rt, attempt, passPause)
	if w.passable(ctx) {
		return false, w.err == errPaused, nil
	}
	t.paced(ctx, rt, w)
	return w.err == nil, false, w.err
}
