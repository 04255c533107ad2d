package llmretry

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
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
// [Generic]. Put it under any http.Client or SDK:
//
//	client := &http.Client{Transport: &llmretry.Transport{}}
//
// When retries end, the last response is returned with a nil error and its
// body intact, as an SDK expects; set ReturnErrors to get an [*APIError]
// instead. The caller's request is never modified, its body is closed exactly
// once, and discarded responses are drained (bounded) and closed so their
// connections are reused.
//
// A Transport is safe for simultaneous use by multiple goroutines. Its fields
// must not be changed, and it must not be copied, once it has been used.
type Transport struct {
	// Base sends each attempt. If nil, http.DefaultTransport is used.
	Base http.RoundTripper

	// Policy applies to requests whose host is not in Hosts.
	// If nil, the built-in provider hosts (see [DefaultHosts]) get their own
	// policies and every other host gets [Generic].
	Policy *Policy

	// Hosts maps request host names (without port, lower case) to the
	// policy for them. Each policy keeps its own pacing state.
	Hosts map[string]*Policy

	// MaxBodyBuffer is how many bytes of a request body without GetBody are
	// buffered so that it can be replayed. A longer body is sent once and
	// not retried. If zero, DefaultMaxBodyBuffer (8 MiB) is used; a negative
	// value disables buffering. Bodies with GetBody (bytes.Reader,
	// strings.Reader, bytes.Buffer, and most SDKs) are never buffered.
	MaxBodyBuffer int64

	// ReturnErrors makes RoundTrip return a final error response (status ≥
	// 400) as an *APIError, closing its body, instead of returning the
	// response. Leave it off under SDKs, which parse error bodies themselves.
	ReturnErrors bool

	// OnAttempt, if non-nil, is called after every attempt with what it got
	// and what the Transport does next. It is called on the request's
	// goroutine and must not retain the response.
	OnAttempt func(AttemptInfo)

	// Logger, if non-nil, logs attempts: successes at Debug, retries at Info,
	// final failures at Warn. Credentials are never logged.
	Logger *slog.Logger

	// Observer, if non-nil, is told when each attempt starts and ends, how
	// long pacing held each request, and the pacing and retry-budget state,
	// for metrics and tracing (see [Observer] and the otel module).
	Observer *Observer

	// Test seams; nil means the real clock, timer and random source.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64

	once     sync.Once
	builtins map[string]*Policy // built-in host routes, made once
	generic  *Policy            // the policy when none is configured

	pacers  pacerSet // pacing state per policy and credential
	budgets budgets  // retry budgets per policy
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	opts := optionsFrom(ctx)
	pol := t.policyFor(req, opts)
	maxRetries := pol.maxRetries()
	if opts.hasMaxRetries {
		maxRetries = opts.maxRetries
	}
	timeout := pol.attemptTimeout()
	if opts.hasTimeout {
		timeout = opts.attemptTimeout
	}

	body, err := prepareBody(req, t.maxBodyBuffer(), maxRetries > 0)
	if err != nil {
		return nil, err
	}
	pacer := t.pacers.get(t, pol, req)
	budget := t.budgets.get(pol)
	cost := 1
	if pacer != nil {
		cost = pacer.cost(req, body, t.maxBodyBuffer())
	}
	r := req
	if body.first != nil {
		r = withBody(req, body.first)
	}

	for attempt := 1; ; attempt++ {
		if pacer != nil {
			if err := t.acquire(ctx, pacer, pol, cost, attempt); err != nil {
				closeBody(r.Body)
				return nil, err
			}
		}
		ar := t.attemptStart(r, attempt) // r, unless an Observer gave it a span
		start := t.clock()
		resp, err := t.send(ar, timeout)
		now := t.clock()
		v := pol.classify(resp, err, now)
		if v.Message != "" {
			v.Message = redact(v.Message, req.Header)
		}
		if pacer != nil {
			pacer.observe(ctx, resp, v, now)
		}
		a := AttemptInfo{Attempt: attempt, Verdict: v, Elapsed: now.Sub(start)}
		a.Decision, a.Wait = t.decide(ctx, pol, v, attempt, maxRetries, body.replayable, now)
		if budget != nil && !budget.record(v) && a.Decision == Retry {
			a.Decision, a.Wait = BudgetExhausted, 0
		}

		var next io.ReadCloser
		if a.Decision == Retry && body.get != nil {
			var rewindErr error
			if next, rewindErr = body.get(); rewindErr != nil {
				a.Decision, a.Wait = NotReplayable, 0 // keep this attempt's outcome for the caller
			}
		}
		t.report(ar.Context(), req, pol, a, resp, pacer, budget, now)
		if a.Decision != Retry {
			return t.finish(pol, pacer, resp, v, err, attempt)
		}

		discard(resp)
		if pacer != nil {
			pacer.release()
		}
		if err := t.wait(ctx, a.Wait); err != nil {
			closeBody(next)
			return nil, err
		}
		r = withBody(req, next)
	}
}

// decide chooses what follows an attempt, and the wait before a retry.
func (t *Transport) decide(ctx context.Context, pol *Policy, v Verdict, attempt, maxRetries int, replayable bool, now time.Time) (Decision, time.Duration) {
	switch {
	case v.Class == OK:
		return Success, 0
	case v.Class == Canceled || ctx.Err() != nil:
		return ContextDone, 0
	case !v.Retryable:
		return NotRetryable, 0
	case attempt > maxRetries:
		return RetriesExhausted, 0
	case !replayable:
		return NotReplayable, 0
	}
	var wait time.Duration
	if v.Hint != NoHint && v.RetryAfter > 0 {
		wait = v.RetryAfter
		if wait > pol.maxWait() {
			return HintTooLong, 0
		}
	} else {
		wait = pol.backoff(attempt, t.random())
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(wait).After(deadline) {
		return PastDeadline, 0
	}
	return Retry, wait
}

// finish returns the last attempt's outcome to the caller.
func (t *Transport) finish(pol *Policy, pacer *pacer, resp *http.Response, v Verdict, err error, attempts int) (*http.Response, error) {
	if err != nil || resp == nil {
		if pacer != nil {
			pacer.release()
		}
		return nil, err
	}
	if t.ReturnErrors && resp.StatusCode >= 400 {
		discard(resp)
		if pacer != nil {
			pacer.release()
		}
		return nil, newAPIError(pol, v, attempts)
	}
	if pacer != nil && pacer.inflight != nil {
		resp.Body = &releaseBody{ReadCloser: resp.Body, p: pacer}
	}
	return resp, nil
}

// releaseBody frees a request's in-flight slot when its body is closed.
type releaseBody struct {
	io.ReadCloser
	p    *pacer
	once sync.Once
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.p.release)
	return err
}

// send makes one attempt, bounded by the attempt timeout if there is one.
func (t *Transport) send(r *http.Request, timeout time.Duration) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if timeout <= 0 {
		return base.RoundTrip(r)
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	timer := time.AfterFunc(timeout, func() { cancel(errAttemptTimeout) })
	resp, err := base.RoundTrip(r.WithContext(ctx))
	if err == nil && resp.StatusCode >= 400 {
		// An error answer is classified from its body's first bytes: read
		// them within the bound, so a body that stalls counts as a timeout.
		peekBody(resp)
	}
	timer.Stop() // the bound is on the headers (and an error's prefix); a success's body may take its time
	if err != nil {
		if context.Cause(ctx) == errAttemptTimeout && r.Context().Err() == nil {
			err = &attemptTimeoutError{timeout: timeout, err: err}
		}
		cancel(nil)
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// attemptTimeoutError is an attempt cut off by the attempt timeout.
type attemptTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeoutError) Error() string {
	return "llmretry: attempt timed out after " + e.timeout.String() + ": " + e.err.Error()
}

func (e *attemptTimeoutError) Unwrap() []error { return []error{errAttemptTimeout, e.err} }
func (e *attemptTimeoutError) Timeout() bool   { return true }

// cancelBody releases an attempt's context when its response body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// CloseIdleConnections closes the idle connections of Base, if it can.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if c, ok := base.(closeIdler); ok {
		c.CloseIdleConnections()
	}
}

// policyFor picks the request's policy: the context's, the Hosts entry for
// its host, Policy, a built-in provider's, or the generic one.
func (t *Transport) policyFor(req *http.Request, o requestOptions) *Policy {
	if o.policy != nil {
		return o.policy
	}
	host := req.URL.Hostname()
	if p, ok := t.Hosts[host]; ok && p != nil {
		return p
	}
	if p, ok := t.Hosts[strings.ToLower(host)]; ok && p != nil {
		return p
	}
	if t.Policy != nil {
		return t.Policy
	}
	t.once.Do(t.init)
	if p, ok := t.builtins[strings.ToLower(host)]; ok {
		return p
	}
	return t.generic
}

func (t *Transport) init() {
	t.generic = Generic()
	t.builtins = DefaultHosts()
}

func (t *Transport) maxBodyBuffer() int64 {
	if t.MaxBodyBuffer == 0 {
		return DefaultMaxBodyBuffer
	}
	return t.MaxBodyBuffer
}

func (t *Transport) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

func (t *Transport) random() float64 {
	if t.rand != nil {
		return t.rand()
	}
	return randFloat()
}

// randFloat is the goroutine-safe random source of math/rand/v2.
func randFloat() float64 { return rand.Float64() }

// wait sleeps for d or until ctx is done, whichever is first.
func (t *Transport) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func closeBody(b io.ReadCloser) {
	if b != nil {
		b.Close()
	}
}
