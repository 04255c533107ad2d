package llmretry

import (
	"io"
	"net/http"
	"time"
)

// route is where a request's attempts go: its own endpoint and model, or
// one of its policy's fallbacks. Each has its own policy, pacer and budget.
type route struct {
	name string        // the Target's name; "" for the request's own target
	req  *http.Request // the request of its attempts (headers, URL); bodies are set per attempt
	get  func() (io.ReadCloser, error)

	pol     *Policy
	pacer   *pacer
	budget  *budget
	cost    int
	retries int
	bounds  bounds
	tries   int // attempts made on this target
}

// bounds are the time limits of one attempt.
type bounds struct {
	attempt    time.Duration // headers, and an error's body prefix or a stream's first event; 0: none
	firstToken time.Duration // a stream's first event; 0: none
	stream     bool          // the request asks for a stream: firstToken bounds its headers too
}

// setup fills in the target's limits, pacer and budget for a request with
// options o; tg.req, tg.get and tg.pol are set.
func (t *Transport) setup(tg *route, o requestOptions) {
	tg.retries = tg.pol.maxRetries()
	if o.hasMaxRetries {
		tg.retries = o.maxRetries
	}
	tg.bounds.attempt = tg.pol.attemptTimeout()
	if o.hasTimeout {
		tg.bounds.attempt = o.attemptTimeout
	}
	tg.bounds.firstToken = tg.pol.firstTokenTimeout()
	if o.hasFirstToken {
		tg.bounds.firstToken = o.firstToken
	}
	if tg.bounds.firstToken > 0 {
		tg.bounds.stream = wantsStream(tg.req, tg.get, t.maxBodyBuffer())
	}
	tg.pacer = t.pacers.get(t, tg.pol, tg.req)
	tg.budget = t.budgets.get(tg.pol)
	tg.cost = 1
	if tg.pacer != nil {
		tg.cost = tg.pacer.cost(tg.req, replayBody{get: tg.get}, t.maxBodyBuffer())
	}
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
		tg := route{name: fb.name(), req: r, get: fget, pol: t.fallbackPolicy(pol, i, r)}
		t.setup(&tg, o)
		return tg, first, true
	}
	return route{}, nil, false
}
