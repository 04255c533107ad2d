package llmretry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Transport is an http.RoundTripper that classifies every response of an LLM
// API, honors the server's wait hints, paces requests client-side, and retries
// what is worth retrying with jittered exponential backoff within the
// request's deadline.
//
// The zero value is ready to use: it wraps http.DefaultTransport, routes the
// hosts of the built-in providers to their policies and every other host to
// the "generic" policy ([Provider]). Put it under any http.Client or SDK:
//
//	client := &http.Client{Transport: &llmretry.Transport{}}
//
// Requests are paced per key (the policy, the request's host, a hash of its
// credential and, when no limit is configured, its model: see [Limits]): at
// the policy's configured [Limits], or at the pace
// learned from the server's rate-limit headers and 429s, and all of a key's
// requests pause when the server asks for a wait (while a pace holds the
// key, a wait given in whole seconds holds the others a second less: the
// pace releases them one by one; the refused request waits it whole). A
// key nothing limits waits for nothing.
//
// When retries end, the last response is returned with a nil error and its
// body intact, as an SDK expects; set ReturnErrors to get an [*APIError]
// instead. The caller's request is never modified, its body is closed exactly
// once, and discarded responses are closed without waiting on their bodies
// (an error body read whole to classify it leaves its connection to be
// reused; a stream is never drained).
//
// A Transport is safe for simultaneous use by multiple goroutines. Its fields
// must not be changed once it has been used. Use it by pointer: a Transport
// must not be copied (it contains a sync.Once), and go vet's copylocks check
// reports every copy of a Transport value, used or not.
type Transport struct {
	// Base sends each attempt. If nil, http.DefaultTransport is used.
	Base http.RoundTripper

	// Policy applies to requests whose host is not in Hosts.
	// If nil, the built-in provider hosts (see [DefaultHosts]) get their own
	// policies and every other host gets the "generic" policy.
	Policy *Policy

	// Hosts maps request host names to the policy for them. Each policy
	// keeps its own pacing state. Keys match in any case and with or
	// without a trailing dot, and a key matches its host on every port; a
	// key with a port, a scheme or a path is not a host name, and every
	// RoundTrip fails with an error naming it. A key may hold one "*"
	// standing for one DNS label or part of one, as in
	// "*.openai.azure.com"; exact names win over patterns, and longer
	// patterns over shorter ones.
	Hosts map[string]*Policy

	// MaxBodyBuffer is how many bytes of a request body without GetBody are
	// buffered so that it can be replayed. A longer body is sent once and
	// not retried. Zero means the default, 8 MiB; a negative value means no
	// buffering. Bodies with GetBody (bytes.Reader,
	// strings.Reader, bytes.Buffer, and most SDKs) are never buffered.
	MaxBodyBuffer int64

	// ReturnErrors makes RoundTrip return a final error response (status ≥
	// 400, or a 200 event stream whose first event is an error) as an
	// *APIError, closing its body, instead of returning the response. Leave
	// it off under SDKs, which parse error bodies themselves.
	ReturnErrors bool

	// Logger, if non-nil, logs attempts: successes at Debug, retries at Info,
	// final failures at Warn. Credentials are never logged.
	Logger *slog.Logger

	// Observer, if non-nil, is told when each attempt starts and ends, how
	// long pacing held each request, and the pacing and retry-budget state,
	// for metrics and tracing (see [Observer] and the otel module).
	Observer *Observer

	seams // the clock, timer and random source; set by the tests

	once     sync.Once
	builtins hostRoutes // built-in host routes, made once
	user     hostRoutes // Hosts, normalized, made once
	hostsErr error      // why Hosts is invalid, found once
	generic  *Policy    // the policy when none is configured

	pacers  pacerSet                    // pacing state per policy and credential
	budgets budgets                     // retry budgets per policy
	derived lazyMap[derivedID, Policy]  // the policies of fallback and pool targets without one
	pools   lazyMap[*Policy, poolState] // the state of each policy's Pool
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
//
// A request goes first to its own target, then, if its policy has Fallbacks
// and an attempt fails as the Policy says (an overload; a rate limit or the end of retries if set), to each fallback in turn,
// each with its own policy, pacing, budget and retries. A fallback whose
// pacing cannot let the request go before its deadline (or fails) is passed
// over for the next; when none can, the attempt's own decision stands, as
// without fallbacks (its answer is returned, or retried on its own target).
// The first answer worth returning — a success, a final error, or the last
// target's last error — is returned; nothing is returned from a target
// before the Transport has chosen it, so a streaming answer that reaches the
// caller comes from one target only.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := t.start(req)
	if err != nil {
		return nil, err
	}
	r := c.firstRequest()
	for attempt := 1; ; attempt++ {
		if r, err = t.admit(&c, r, attempt); err != nil {
			closeBody(r.Body)
			return nil, err
		}
		c.tries++
		ar := t.attemptStart(r, attempt) // r, unless an Observer gave it a span
		start := t.clock()
		tk := c.send(start)
		resp, err := t.send(ar, c.bounds)
		now := t.clock()
		v := c.verdict(ar, resp, err, now)
		c.pacer.observe(c.ctx, resp, v, tk, now)
		c.sawPool(v, now)
		a := AttemptInfo{Attempt: attempt, Target: c.name, Verdict: v, Elapsed: now.Sub(start)}
		s := t.decide(&c, resp, &a, now)
		t.report(ar.Context(), c.req, c.pol, c.opts.priority, a, resp, c.pacer, c.budget, s.at)
		switch {
		case s.err != nil:
			discard(resp)
			return nil, s.err
		case a.Decision != DecisionRetry && a.Decision != DecisionFallback:
			return t.finish(&c, resp, a, now)
		}
		discard(resp)
		c.release()
		if a.Decision == DecisionFallback {
			c.enter(s.to) // at once: another target's hints and pacing are its own
		} else if err := t.retryWait(&c, s); err != nil {
			closeBody(s.next)
			return nil, err
		}
		r = c.retryRequest(s.next)
	}
}

// call is the state of one RoundTrip. Its route is the target the attempts
// go to: the request's own, until a fallback replaces it (see call.enter).
type call struct {
	route
	ctx   context.Context
	body  replayBody // the current target's body
	began time.Time

	opts      requestOptions
	primary   *Policy  // the request's own policy, whose fallbacks apply
	fallbacks []Target // the fallbacks the request may use
	next      int      // the index of the next fallback to try
	orig      *http.Request
	origBody  func() (io.ReadCloser, error) // the caller's body, for fallbacks

	watch *watchedBody // the attempt's body, when it is the caller's reader and may fail

	poolOf  *poolState // the primary policy's pool, until a fallback is entered; nil without one
	members []route    // a route to each target of the pool; one with a nil pol does not fit the request
	member  int        // the pool target the attempts go to
	tried   uint64     // the pool targets that failed the request (a bit each, for the first 64)
	moving  bool       // the retry decided goes to another target of the pool, at once

	admitted bool // the next attempt's pacing wait is done (a fallback entered after it)
	freed    bool // the last attempt's in-flight slot is given back

	// Retries woken before their backoff ended (retryWait) on the current
	// target, and the origin of an SDK's schedule for its retries: when the
	// first answer came, plus how long each later attempt took (an SDK
	// sleeps after each answer); a woken request's later retries keep to
	// that schedule (sdkFloor). extra: the attempt in flight was sent at
	// a spare wake (past maxRetryWakes), which stands for no SDK attempt,
	// so its time is not on that clock.
	wakes int
	first time.Time
	extra bool

	// again: the server accepted an attempt of the key sent after this
	// request's last 429 before its retry went (woken, or at the end of
	// its backoff); refusedRun: the request's 429s in a row so followed,
	// which the retry's ticket carries (ticket.again, call.send).
	// watched: the wait before the next attempt watched the key's
	// accepted answers for again (step.watch); beside again, in its
	// padding.
	again      bool
	watched    bool
	refusedRun int
}

// start checks req and sets up its call: policy, limits, body, pacing.
func (t *Transport) start(req *http.Request) (call, error) {
	if err := t.check(req); err != nil {
		if req != nil {
			closeBody(req.Body)
		}
		return call{}, err
	}
	ctx := req.Context()
	opts := optionsFrom(ctx)
	c := call{route: route{req: req, pol: t.policyFor(req, opts)}, ctx: ctx, began: t.clock(), opts: opts, orig: req}
	if c.pol != nil && c.pol.Priority != 0 && !opts.hasPriority {
		c.ctx = WithPriority(ctx, c.pol.Priority) // an allocation only for a policy that sets one
		c.opts.priority = c.pol.Priority
	}
	c.primary, c.fallbacks = c.pol, c.pol.fallbacks(opts)
	if err := t.checkConfig(c.pol, c.fallbacks); err != nil {
		closeBody(req.Body)
		return call{}, err
	}
	retries := c.pol.maxRetries()
	if opts.hasMaxRetries {
		retries = opts.maxRetries
	}
	var err error
	if c.body, err = prepareBody(ctx, req, t.maxBodyBuffer(), retries > 0 || len(c.fallbacks) > 0 || len(c.pol.pool()) > 0); err != nil {
		return call{}, redactErr(err, requestSecrets(req)) // the reader's error may quote anything
	}
	c.origBody = c.body.get
	if len(c.pol.pool()) > 0 {
		return c, t.joinPool(&c)
	}
	first := c.body.first // the buffered body, or nil: the caller's, unread
	if first == nil {
		first = req.Body
	}
	t.setup(&c.route, c.body.get, opts, first)
	return c, nil
}

// enter makes rt the call's target: its attempts go there from now on. Its
// first attempt's pacing wait is done.
func (c *call) enter(rt route) {
	c.route = rt
	c.body = replayBody{get: rt.get, replayable: true}
	c.admitted, c.freed = true, false
	c.poolOf = nil  // the pool is left behind
	c.wakes = 0     // a new target: its own schedule
	c.again = false // what the left target's server accepted tells nothing of this one's
	c.watched = false
}

// release gives back the in-flight slot of the call's last attempt, once.
func (c *call) release() {
	if !c.freed {
		c.pacer.release()
		c.freed = true
	}
}

// firstRequest is the request of the first attempt.
func (c *call) firstRequest() *http.Request {
	switch {
	case c.body.first != nil:
		return withBody(c.req, c.body.first)
	case c.body.get == nil || c.retries == 0 || inMemory(c.req.Body):
		return c.req
	}
	return c.retryRequest(c.req.Body)
}

// retryRequest is the request of an attempt that sends body. The caller's
// own reader is watched, so that its failure is not taken for the network's.
func (c *call) retryRequest(body io.ReadCloser) *http.Request {
	c.watch = nil
	if c.body.get == nil {
		return c.req // no body
	}
	if !inMemory(body) {
		c.watch = &watchedBody{ReadCloser: body}
		body = c.watch
	}
	return withBody(c.req, body)
}

// CloseIdleConnections closes the idle connections of Base, if it can.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := t.base().(closeIdler); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

func (t *Transport) maxBodyBuffer() int64 {
	if t.MaxBodyBuffer == 0 {
		return defaultMaxBodyBuffer
	}
	return t.MaxBodyBuffer
}
