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
// options o, whose body get gives; rt.req and rt.pol are set. first, if
// not nil, is an unread reader of the same body: read in place when it is
// in memory, it spares get's copy. Its cost is estimated when it is first
// paced (see paceCost).
func (t *Transport) setup(rt *route, get func() (io.ReadCloser, error), o requestOptions, first io.Reader) {
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
	// One scan of the body finds whether it asks for a stream, and the model
	// it names when the pacing key names one.
	accepts := rt.bounds.firstToken > 0 && acceptsStream(rt.req)
	bodyStream := rt.bounds.firstToken > 0 && !accepts && get != nil
	perModel := rt.pol != nil && rt.pol.pacesPerModel()
	var s streamFlag
	if bodyStream || perModel {
		s.left, s.models = max(t.maxBodyBuffer(), defaultMaxBodyBuffer), perModel
		if perModel {
			s.model.start(t.pacers.init(t))
		}
		scanBody(&s, first, get)
	}
	rt.bounds.stream = accepts || bodyStream && s.stream
	var model *modelScan
	if perModel {
		model = &s.model
		if !model.has {
			if name := pathModel(rt.req.URL); name != "" {
				model.start(t.pacers.init(t))
				model.writeString(name)
				model.has = true
			}
		}
	}
	rt.pacer = t.pacers.get(t, rt.pol, rt.req, model)
	rt.budget = t.budgets.get(rt.pol)
	rt.cost, rt.costed = 1, false // estimated by the pacing wait (paceCost), which every attempt goes through
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
		t.setup(&rt, fget, o, first)
		return rt, first, true
	}
	return route{}, nil, false
}
