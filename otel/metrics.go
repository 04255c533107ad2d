package llmretryotel

import (
	"context"
	"net/http"

	"github.com/llmretry/llmretry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// The instruments' names. Durations are in seconds, as the conventions ask.
const (
	// RequestDurationName is the HTTP client convention's histogram, one
	// measurement per attempt (each attempt is an HTTP request), up to its
	// response headers.
	RequestDurationName = "http.client.request.duration"
	// AttemptsName counts attempts by policy, class and decision.
	AttemptsName = "llmretry.attempts"
	// RetriesName counts retries by policy, class of the attempt retried,
	// and wait kind (hint or backoff).
	RetriesName = "llmretry.retries"
	// RequestAttemptsName is a histogram of the attempts each request took,
	// recorded at its last attempt, by policy, final class and decision: its
	// count is the number of requests by outcome.
	RequestAttemptsName = "llmretry.request.attempts"
	// WaitDurationName is a histogram of the time requests waited, by
	// policy and kind: pacing (client-side, before an attempt), hint and
	// backoff (before a retry, as planned).
	WaitDurationName = "llmretry.wait.duration"
	// RequestRateName and TokenRateName are gauges of the pace in force per
	// pacing key after its last attempt, configured or learned (0: none).
	RequestRateName = "llmretry.limit.request_rate"
	TokenRateName   = "llmretry.limit.token_rate"
	// BudgetName is a gauge of the share of the retry budget left per
	// policy, from 0 to 1; retries stop at 0.5 and below.
	BudgetName = "llmretry.budget.level"
)

type instruments struct {
	duration        metric.Float64Histogram
	attempts        metric.Int64Counter
	retries         metric.Int64Counter
	requestAttempts metric.Int64Histogram
	wait            metric.Float64Histogram
	requestRate     metric.Float64Gauge
	tokenRate       metric.Float64Gauge
	budget          metric.Float64Gauge
}

func newInstruments(m metric.Meter) instruments {
	var i instruments
	var err error
	i.duration, err = m.Float64Histogram(RequestDurationName, metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60))
	handle(err)
	i.attempts, err = m.Int64Counter(AttemptsName, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts made, by policy, class of the outcome and decision taken."))
	handle(err)
	i.retries, err = m.Int64Counter(RetriesName, metric.WithUnit("{retry}"),
		metric.WithDescription("Retries, by policy, class of the attempt retried and wait kind (hint or backoff)."))
	handle(err)
	i.requestAttempts, err = m.Int64Histogram(RequestAttemptsName, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts per request, by policy, final class and decision."),
		metric.WithExplicitBucketBoundaries(1, 2, 3, 4, 5, 6, 8, 10))
	handle(err)
	i.wait, err = m.Float64Histogram(WaitDurationName, metric.WithUnit("s"),
		metric.WithDescription("Time requests waited: client-side pacing, a server's wait hint, or backoff."),
		metric.WithExplicitBucketBoundaries(0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
	handle(err)
	i.requestRate, err = m.Float64Gauge(RequestRateName, metric.WithUnit("{request}/s"),
		metric.WithDescription("Requests per second paced per key, configured or learned; 0 when not limited."))
	handle(err)
	i.tokenRate, err = m.Float64Gauge(TokenRateName, metric.WithUnit("{token}/s"),
		metric.WithDescription("Tokens per second paced per key, configured or learned; 0 when not limited."))
	handle(err)
	i.budget, err = m.Float64Gauge(BudgetName, metric.WithUnit("1"),
		metric.WithDescription("Share of the retry budget left per policy; retries stop at 0.5 and below."))
	handle(err)
	return i
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// recordAttempt records an attempt's metrics. r is the attempt's request.
func (i *instruments) recordAttempt(a llmretry.AttemptInfo, r *http.Request, s llmretry.State) {
	ctx, v := a.Context, a.Verdict
	var buf [8]attribute.KeyValue
	kvs := requestAttrs(r, buf[:0])
	if v.Status > 0 {
		kvs = append(kvs, semconv.HTTPResponseStatusCode(v.Status))
	}
	if et := errorType(v); et != "" {
		kvs = append(kvs, semconv.ErrorTypeKey.String(et))
	}
	i.duration.Record(ctx, a.Elapsed.Seconds(), metric.WithAttributes(kvs...))

	policy := PolicyKey.String(a.Policy)
	class := ClassKey.String(v.Class.String())
	decision := DecisionKey.String(a.Decision.String())
	addr := semconv.ServerAddress(serverAddress(r))
	i.attempts.Add(ctx, 1, metric.WithAttributes(policy, class, decision, addr))
	if a.Decision == llmretry.Retry {
		kind := WaitKindKey.String(waitKind(v))
		i.retries.Add(ctx, 1, metric.WithAttributes(policy, class, kind, addr))
		i.wait.Record(ctx, a.Wait.Seconds(), metric.WithAttributes(policy, kind))
	} else {
		i.requestAttempts.Record(ctx, int64(a.Attempt), metric.WithAttributes(policy, class, decision, addr))
	}
	if s.Key != "" {
		key := metric.WithAttributes(policy, PacingKeyKey.String(s.Key))
		i.requestRate.Record(ctx, rate(float64(s.Limit.RequestRate)), key)
		i.tokenRate.Record(ctx, rate(float64(s.Limit.TokenRate)), key)
	}
	if s.HasBudget {
		i.budget.Record(ctx, s.Budget, metric.WithAttributes(policy))
	}
}

// recordPacing records a pacing wait.
func (i *instruments) recordPacing(ctx context.Context, w llmretry.PacingWait) {
	var buf [3]attribute.KeyValue
	kvs := append(buf[:0], PolicyKey.String(w.Policy), WaitKindKey.String(WaitPacing))
	if w.Err != nil {
		kvs = append(kvs, semconv.ErrorTypeKey.String(pacingErrorType(w.Err)))
	}
	i.wait.Record(ctx, w.Wait.Seconds(), metric.WithAttributes(kvs...))
}

// waitKind says what set the wait before a retry, as the Transport decides.
func waitKind(v llmretry.Verdict) string {
	if v.Hint != llmretry.NoHint && v.RetryAfter > 0 {
		return WaitHint
	}
	return WaitBackoff
}

// rate is a limit as a gauge value: 0 for none (rate.Inf, or not set).
func rate(r float64) float64 {
	if r <= 0 || r > 1e300 {
		return 0
	}
	return r
}

func serverAddress(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	return r.URL.Hostname()
}
