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
	// FallbacksName counts the attempts after which a request went on to
	// its policy's next fallback target, by policy, class and the target
	// left (llmretry.target; absent for the request's own).
	FallbacksName = "llmretry.fallbacks"
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
	// BudgetName is a gauge of the retries the retry budget has left per
	// policy, for the failures it pays for; at none, they wait for their turn.
	BudgetName = "llmretry.budget.available"
)

type instruments struct {
	duration        metric.Float64Histogram
	attempts        metric.Int64Counter
	retries         metric.Int64Counter
	fallbacks       metric.Int64Counter
	requestAttempts metric.Int64Histogram
	wait            metric.Float64Histogram
	requestRate     metric.Float64Gauge
	tokenRate       metric.Float64Gauge
	budget          metric.Float64Gauge

	cache caches
}

func newInstruments(m metric.Meter) *instruments {
	i := &instruments{}
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
	i.fallbacks, err = m.Int64Counter(FallbacksName, metric.WithUnit("{fallback}"),
		metric.WithDescription("Requests sent on to a fallback target, by policy, class of the attempt and the target it left."))
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
	i.budget, err = m.Float64Gauge(BudgetName, metric.WithUnit("{retry}"),
		metric.WithDescription("Retries the retry budget has left per policy; at none, failures it pays for are not retried."))
	handle(err)
	return i
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// Keys of the attribute-set caches: each determines its set.
type (
	durationKey struct {
		method, scheme, host string
		status               int
		class                llmretry.Class
	}
	attemptKey struct {
		policy, host, target string
		class                llmretry.Class
		decision             llmretry.Decision
	}
	retryKey struct {
		policy, host string
		class        llmretry.Class
		kind         string
	}
	waitKey struct {
		policy, kind, errType string
		prio                  int
	}
	limitKey struct{ policy, key string }
)

// caches hold the attribute sets of the series seen.
type caches struct {
	duration optCache[durationKey]
	attempt  optCache[attemptKey]
	retry    optCache[retryKey]
	fallback optCache[attemptKey]
	wait     optCache[waitKey]
	limit    optCache[limitKey]
	budget   optCache[string]
}

// recordAttempt records an attempt's metrics. r is the attempt's request.
func (i *instruments) recordAttempt(a llmretry.AttemptInfo, r *http.Request) {
	ctx, v := a.Context, a.Verdict
	if i.duration.Enabled(ctx) {
		scheme, host := "", ""
		if r.URL != nil {
			scheme, host = r.URL.Scheme, r.URL.Host
		}
		k := durationKey{method: r.Method, scheme: scheme, host: host, status: v.Status, class: v.Class}
		o := i.cache.duration.get(k, func() []attribute.KeyValue {
			kvs := requestAttrs(r, make([]attribute.KeyValue, 0, 8))
			if v.Status > 0 {
				kvs = append(kvs, semconv.HTTPResponseStatusCode(v.Status))
			}
			if et := errorType(v); et != "" {
				kvs = append(kvs, semconv.ErrorTypeKey.String(et))
			}
			return kvs
		})
		i.duration.Record(ctx, a.Elapsed.Seconds(), o.rec...)
	}

	host := serverAddress(r)
	final := a.Decision != llmretry.DecisionRetry && a.Decision != llmretry.DecisionFallback
	if i.attempts.Enabled(ctx) || final && i.requestAttempts.Enabled(ctx) {
		o := i.cache.attempt.get(attemptKey{a.Policy, host, a.Target, v.Class, a.Decision}, func() []attribute.KeyValue {
			kvs := []attribute.KeyValue{PolicyKey.String(a.Policy), ClassKey.String(v.Class.String()),
				DecisionKey.String(a.Decision.String()), semconv.ServerAddress(host)}
			if a.Target != "" {
				kvs = append(kvs, TargetKey.String(a.Target))
			}
			return kvs
		})
		i.attempts.Add(ctx, 1, o.add...)
		if final {
			i.requestAttempts.Record(ctx, int64(a.Attempt), o.rec...)
		}
	}
	if a.Decision == llmretry.DecisionFallback && i.fallbacks.Enabled(ctx) {
		o := i.cache.fallback.get(attemptKey{policy: a.Policy, target: a.Target, class: v.Class}, func() []attribute.KeyValue {
			kvs := []attribute.KeyValue{PolicyKey.String(a.Policy), ClassKey.String(v.Class.String())}
			if a.Target != "" {
				kvs = append(kvs, TargetKey.String(a.Target))
			}
			return kvs
		})
		i.fallbacks.Add(ctx, 1, o.add...)
	}
	if a.Decision == llmretry.DecisionRetry {
		kind := waitKind(v)
		if i.retries.Enabled(ctx) {
			o := i.cache.retry.get(retryKey{a.Policy, host, v.Class, kind}, func() []attribute.KeyValue {
				return []attribute.KeyValue{PolicyKey.String(a.Policy), ClassKey.String(v.Class.String()),
					WaitKindKey.String(kind), semconv.ServerAddress(host)}
			})
			i.retries.Add(ctx, 1, o.add...)
		}
		i.recordWait(ctx, a.Policy, kind, "", 0, a.Wait.Seconds())
	}
	if a.Key != "" && (i.requestRate.Enabled(ctx) || i.tokenRate.Enabled(ctx)) {
		o := i.cache.limit.get(limitKey{a.Policy, a.Key}, func() []attribute.KeyValue {
			return []attribute.KeyValue{PolicyKey.String(a.Policy), PacingKeyKey.String(a.Key)}
		})
		i.requestRate.Record(ctx, rate(float64(a.Pace.RequestRate)), o.rec...)
		i.tokenRate.Record(ctx, rate(float64(a.Pace.TokenRate)), o.rec...)
	}
	if a.HasBudget && i.budget.Enabled(ctx) {
		o := i.cache.budget.get(a.Policy, func() []attribute.KeyValue {
			return []attribute.KeyValue{PolicyKey.String(a.Policy)}
		})
		i.budget.Record(ctx, a.Budget, o.rec...)
	}
}

// recordPacing records a pacing wait.
func (i *instruments) recordPacing(ctx context.Context, w llmretry.PacingWait) {
	et := ""
	if w.Err != nil {
		et = pacingErrorType(w.Err)
	}
	i.recordWait(ctx, w.Policy, WaitPacing, et, w.Priority, w.Wait.Seconds())
}

// recordWait records a wait; prio is a pacing wait's priority, an
// attribute unless 0.
func (i *instruments) recordWait(ctx context.Context, policy, kind, errType string, prio int, seconds float64) {
	if !i.wait.Enabled(ctx) {
		return
	}
	o := i.cache.wait.get(waitKey{policy, kind, errType, prio}, func() []attribute.KeyValue {
		kvs := []attribute.KeyValue{PolicyKey.String(policy), WaitKindKey.String(kind)}
		if errType != "" {
			kvs = append(kvs, semconv.ErrorTypeKey.String(errType))
		}
		if prio != 0 {
			kvs = append(kvs, PriorityKey.Int(prio))
		}
		return kvs
	})
	i.wait.Record(ctx, seconds, o.rec...)
}

// waitKind says what set the wait before a retry, as the Transport decides.
func waitKind(v llmretry.Verdict) string {
	if v.Hint != "" && v.RetryAfter > 0 {
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
