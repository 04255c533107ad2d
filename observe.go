package llmretry

import (
	"context"
	"log/slog"
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

// AttemptInfo describes one attempt, for [Observer].AttemptEnd and the
// [Transport].Logger: what it got, what the Transport does next, and the
// state of the request's pacing key and retry budget after it.
// It holds no header values and no query string, so no credential.
type AttemptInfo struct {
	Context  context.Context // the attempt's context: the request's, or the one [Observer].AttemptStart gave it (e.g. for trace ids)
	Policy   string          // the policy's name
	Target   string          // the fallback or pool target the attempt went to (its Target name); "" for the request's own
	Method   string
	Host     string
	Path     string        // the URL path, without the query
	Attempt  int           // 1 for the first attempt
	Verdict  Verdict       // what the attempt's outcome means
	Decision Decision      // what the Transport does next
	Wait     time.Duration // the wait before the next attempt, when Decision is DecisionRetry (for a retry that waited for its turn, see RetryBudget, the time it waited, AttemptEnd being called after it); the wait refused, when DecisionHintTooLong or DecisionPastDeadline
	Elapsed  time.Duration // how long the attempt took, pacing wait excluded

	// Key, Pace, Budget and HasBudget are the state after the attempt,
	// given to Observer.AttemptEnd only (the Logger does not log them).
	//
	// Key is the request's pacing key, as a [Limiter] sees it: it names
	// the policy and host, holds a truncated SHA-256 of the credential,
	// never the credential, and, under a policy that configures no limit,
	// ends with the model (see [Limits]); "" when the request is not paced.
	Key string
	// Pace is the pace in force for Key: configured or learned from the
	// provider's rate-limit headers, after any adaptive slow-down.
	Pace Pace
	// Budget is the retries the policy's retry budget has left for the
	// failures it pays for (see [RetryBudget]): when none is left, such
	// failures wait for their turn to retry, or are not retried when the
	// deadline comes first. HasBudget is false when the policy's budget is
	// disabled.
	Budget    float64
	HasBudget bool
}

// PacingWait is one wait for client-side pacing, for [Observer].Paced.
type PacingWait struct {
	Policy   string        // the policy's name
	Key      string        // the pacing key, as in [AttemptInfo]
	Attempt  int           // the attempt that waited, 1 for the first
	Priority int           // the priority it waited at (see WithPriority)
	Wait     time.Duration // how long the request was held
	Err      error         // non-nil if the wait ended the request
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

// report calls the hooks and logs an attempt.
func (t *Transport) report(ctx context.Context, req *http.Request, pol *Policy, prio int, a AttemptInfo, resp *http.Response, p *pacer, b *budget, now time.Time) {
	observe := t.Observer != nil && t.Observer.AttemptEnd != nil
	if t.Logger == nil && !observe {
		return
	}
	a.Context, a.Policy, a.Method, a.Host, a.Path = ctx, pol.name(), req.Method, req.URL.Host, req.URL.Path
	if t.Logger != nil {
		logAttempt(ctx, t.Logger, a, prio)
	}
	if observe {
		t.attemptEnd(a, resp, p, b, now)
	}
}

// logAttempt logs successes at Debug, retries at Info and failures at Warn,
// with the request's priority unless it is 0 (see WithPriority).
func logAttempt(ctx context.Context, l *slog.Logger, a AttemptInfo, prio int) {
	level := slog.LevelWarn
	switch a.Decision {
	case DecisionSuccess:
		level = slog.LevelDebug
	case DecisionRetry, DecisionFallback:
		level = slog.LevelInfo
	}
	if !l.Enabled(ctx, level) {
		return
	}
	v := a.Verdict
	attrs := []slog.Attr{
		slog.String("policy", a.Policy),
		slog.String("method", a.Method),
		slog.String("host", a.Host),
		slog.String("path", a.Path),
		slog.Int("attempt", a.Attempt),
		slog.String("class", v.Class.String()),
		slog.String("decision", a.Decision.String()),
		slog.Duration("elapsed", a.Elapsed),
	}
	if a.Target != "" {
		attrs = append(attrs, slog.String("target", a.Target))
	}
	if prio != 0 {
		attrs = append(attrs, slog.Int("priority", prio))
	}
	if v.Status != 0 {
		attrs = append(attrs, slog.Int("status", v.Status))
	}
	if v.Code != "" || v.Type != "" {
		attrs = append(attrs, slog.String("type", v.Type), slog.String("code", v.Code))
	}
	if v.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", v.RequestID))
	}
	if v.Hint != noHint {
		attrs = append(attrs, slog.Duration("retry_after", v.RetryAfter), slog.String("hint", v.Hint))
	}
	if a.Decision == DecisionRetry || a.Wait > 0 {
		attrs = append(attrs, slog.Duration("wait", a.Wait))
	}
	if v.Err != nil {
		attrs = append(attrs, slog.String("error", v.Err.Error()))
	}
	msg := "llmretry: " + a.Decision.String()
	l.LogAttrs(ctx, level, msg, attrs...)
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
