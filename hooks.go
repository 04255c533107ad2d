package llmretry

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// AttemptInfo describes one attempt, for [Observer].AttemptEnd and the
// [Transport].Logger: what it got, what the Transport does next, and the
// state of the request's pacing key and retry budget after it.
// It holds no header values and no query string, so no credential.
type AttemptInfo struct {
	Context  context.Context // the attempt's context: the request's, or the one [Observer].AttemptStart gave it (e.g. for trace ids)
	Policy   string          // the policy's name
	Target   string          // the fallback target the attempt went to (its Target name); "" for the request's own
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
	// the policy and holds a truncated SHA-256 of the credential, never
	// the credential; "" when the request is not paced.
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

// report calls the hooks and logs an attempt.
func (t *Transport) report(ctx context.Context, req *http.Request, pol *Policy, a AttemptInfo, resp *http.Response, p *pacer, b *budget, now time.Time) {
	observe := t.Observer != nil && t.Observer.AttemptEnd != nil
	if t.Logger == nil && !observe {
		return
	}
	a.Context, a.Policy, a.Method, a.Host, a.Path = ctx, pol.name(), req.Method, req.URL.Host, req.URL.Path
	if t.Logger != nil {
		logAttempt(ctx, t.Logger, a)
	}
	if observe {
		t.attemptEnd(a, resp, p, b, now)
	}
}

// logAttempt logs successes at Debug, retries at Info and failures at Warn.
func logAttempt(ctx context.Context, l *slog.Logger, a AttemptInfo) {
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
