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
	// 400, or a 200 event stream whose first event is an error) as an
	// *APIError, closing its body, instead of returning the response. Leave
	// it off under SDKs, which parse error bodies themselves.
	ReturnErrors bool

	// OnAttempt, if non-nil, is called after every attempt with what it got
	// and what the Transport does next. It is called on the request's
	// goroutine and must not retain the response.
	OnAttempt func(AttemptInfo)

	// Logger, if non-nil, logs attempts: successes at Debug, retries at Info,
	// final failures at Warn. Credentials are never logged.
	Logger *slog.Logger

	// Test seams; nil means the real clock, timer and random source.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64

	once     sync.Once
	builtins map[string]*Policy // built-in host routes, made once
	generic  *Policy            // the policy when none is configured

	pacers  pacerSet                   // pacing state per policy and credential
	budgets budgets                    // retry budgets per policy
	derived lazyMap[derivedID, Policy] // the policies of fallback targets without one
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
//
// A request goes first to its own target, then, if its policy has Fallbacks
// and an attempt fails as Policy.FallbackOn says, to each fallback in turn,
// each with its own policy, pacing, budget and retries. The first answer
// worth returning — a success, a final error, or the last target's last
// error — is returned; nothing is returned from a target before the
// Transport has chosen it, so a streaming answer that reaches the caller
// comes from one target only.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	opts := optionsFrom(ctx)
	tg := route{req: req, pol: t.policyFor(req, opts)}
	fallbacks := tg.pol.fallbacks(opts)
	maxRetries := tg.pol.maxRetries()
	if opts.hasMaxRetries {
		maxRetries = opts.maxRetries
	}
	body, err := prepareBody(req, t.maxBodyBuffer(), maxRetries > 0 || len(fallbacks) > 0)
	if err != nil {
		return nil, err
	}
	tg.get = body.get
	t.setup(&tg, opts)
	primary, nextFallback := tg.pol, 0
	r := req
	if body.first != nil {
		r = withBody(req, body.first)
	}

	for attempt := 1; ; attempt++ {
		tg.tries++
		if tg.pacer != nil {
			if err := tg.pacer.acquire(ctx, tg.cost, t.clock()); err != nil {
				closeBody(r.Body)
				return nil, err
			}
		}
		start := t.clock()
		resp, err := t.send(r, tg.bounds)
		now := t.clock()
		v := tg.pol.classify(resp, err, now)
		if sb, ok := failedStream(resp); ok {
			v = tg.pol.streamVerdict(resp, sb, now) // a 200 whose first event is an error
		}
		if v.Message != "" {
			v.Message = redact(v.Message, req.Header)
			if tg.req != req {
				v.Message = redact(v.Message, tg.req.Header)
			}
		}
		if tg.pacer != nil {
			tg.pacer.observe(ctx, resp, v, now)
		}
		a := AttemptInfo{Attempt: attempt, Target: tg.name, Verdict: v, Elapsed: now.Sub(start)}
		a.Decision, a.Wait = t.decide(ctx, tg.pol, v, tg.tries, tg.retries, body.replayable, now)
		if tg.budget != nil && !tg.budget.record(v) && a.Decision == Retry {
			a.Decision, a.Wait = BudgetExhausted, 0
		}

		var next io.ReadCloser
		var fb route
		if nextFallback < len(fallbacks) && body.replayable && primary.FallbackOn.shouldFallback(v, a.Decision) {
			var ok bool
			if fb, next, ok = t.nextTarget(req, body.get, primary, &nextFallback, opts); ok {
				a.Decision, a.Wait = Fallback, 0
			}
		}
		if a.Decision == Retry && tg.get != nil {
			var rewindErr error
			if next, rewindErr = tg.get(); rewindErr != nil {
				a.Decision, a.Wait = NotReplayable, 0 // keep this attempt's outcome for the caller
			}
		}
		t.report(ctx, tg.req, tg.pol, a)
		if a.Decision != Retry && a.Decision != Fallback {
			return t.finish(tg, resp, v, err, attempt)
		}

		discard(resp)
		if tg.pacer != nil {
			tg.pacer.release()
		}
		if a.Decision == Fallback {
			tg = fb
		} else if err := t.wait(ctx, a.Wait); err != nil {
			closeBody(next)
			return nil, err
		}
		r = withBody(tg.req, next)
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

// finish returns the last attempt's outcome, from target tg, to the caller.
func (t *Transport) finish(tg route, resp *http.Response, v Verdict, err error, attempts int) (*http.Response, error) {
	pacer := tg.pacer
	if err != nil || resp == nil {
		if pacer != nil {
			pacer.release()
		}
		return nil, err
	}
	if t.ReturnErrors && (resp.StatusCode >= 400 || v.Class != OK) {
		discard(resp)
		if pacer != nil {
			pacer.release()
		}
		e := newAPIError(tg.pol, v, attempts)
		e.Target = tg.name
		return nil, e
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

// send makes one attempt within bounds b. A successful event stream is
// returned only once its first event has been read (see peekStream).
func (t *Transport) send(r *http.Request, b bounds) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if b.attempt <= 0 && b.firstToken <= 0 {
		resp, err := base.RoundTrip(r)
		if err == nil && isEventStream(resp) {
			if err := peekStream(resp, nil); err != nil {
				resp.Body.Close()
				return nil, err
			}
		}
		return resp, err
	}
	return t.sendBounded(base, r, b)
}

// attemptTimeoutError is an attempt cut off by the attempt timeout, or by
// the first-token timeout (cause ErrFirstTokenTimeout).
type attemptTimeoutError struct {
	timeout time.Duration
	cause   error // errAttemptTimeout or ErrFirstTokenTimeout
	err     error
}

func (e *attemptTimeoutError) Error() string {
	what := "llmretry: attempt timed out after "
	if e.cause == ErrFirstTokenTimeout {
		what = "llmretry: no first token after "
	}
	return what + e.timeout.String() + ": " + e.err.Error()
}

func (e *attemptTimeoutError) Unwrap() []error {
	if e.cause == nil {
		return []error{errAttemptTimeout, e.err}
	}
	return []error{e.cause, e.err}
}
func (e *attemptTimeoutError) Timeout() bool { return true }

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
