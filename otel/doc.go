// Package llmretryotel turns what an [llmretry.Transport] does into
// OpenTelemetry metrics and spans. It is its own module,
// github.com/llmretry/llmretry/otel, so that the core module does not depend
// on OpenTelemetry. Its package name is llmretryotel, so that it does not
// collide with go.opentelemetry.io/otel in the programs that use both.
//
// Set the Observer that [NewObserver] returns on a Transport:
//
//	tr := &llmretry.Transport{Observer: llmretryotel.NewObserver(llmretryotel.Config{})}
//	client := &http.Client{Transport: tr}
//
// The zero [Config] uses the global meter provider, the tracer provider of
// the request's span (or the global one) and the global propagator, as
// OpenTelemetry's own instrumentation (otelhttp) does; set its fields to
// use others.
//
// # Metrics
//
// Every attempt is an HTTP request and is measured as the HTTP client
// semantic conventions (v1.43.0) say: http.client.request.duration, up to
// the response headers, with http.request.method, server.address,
// server.port (when not the scheme's default), url.scheme,
// http.response.status_code and error.type (the status code of an error
// answer, or the llmretry class of a transport error: "timeout",
// "connection"…). Our own instruments, all with llmretry.policy:
//
//   - llmretry.attempts {attempt}: counter by llmretry.class,
//     llmretry.decision ("success", "retry", "fallback",
//     "retries_exhausted", "hint_too_long"…) and server.address.
//   - llmretry.retries {retry}: counter by the class of the attempt
//     retried and llmretry.wait.kind, "hint" (the server said when) or
//     "backoff".
//   - llmretry.fallbacks {fallback}: counter of the attempts after which
//     a request went on to its policy's next fallback target, by class and
//     llmretry.target, the target it left (absent for the request's own).
//     Attempts made to a fallback target carry llmretry.target too.
//   - llmretry.request.attempts {attempt}: histogram of the attempts each
//     request took, by its final class and decision; its count is the
//     number of requests by outcome.
//   - llmretry.wait.duration (s): histogram of the waits, by
//     llmretry.wait.kind: "pacing" (client-side pacing before an attempt;
//     error.type "pacing_deadline" when the wait could not end before the
//     request's deadline and ended it; llmretry.priority, the priority
//     it waited at, unless 0: the queue wait per priority), "hint" and
//     "backoff" (before a retry, as planned).
//   - llmretry.limit.request_rate {request}/s and llmretry.limit.token_rate
//     {token}/s: gauges of the pace in force for each pacing key,
//     configured or learned from the provider's X-RateLimit headers (0: not
//     limited). The key, llmretry.key, is the policy's name, the host and a
//     truncated SHA-256 of the credential, never the credential, and, with
//     no limit configured, the model; there is one per API key (and model)
//     in use.
//   - llmretry.budget.available {retry}: gauge of the retries the retry
//     budget has left for the failures it pays for; when none is left,
//     they wait for their turn to retry (see [llmretry.RetryBudget]).
//
// No metric has a URL, a path or a per-request value among its attributes.
// As a Prometheus exporter writes them: llmretry_attempts_total,
// llmretry_retries_total, llmretry_wait_duration_seconds,
// http_client_request_duration_seconds, and so on.
//
// # Spans
//
// Each attempt is a client span, a child of the span in the request's
// context, named after the method ("POST") as the conventions ask when
// there is no URL template. It has the attributes above, plus
// llmretry.attempt, http.request.resend_count (from the second attempt),
// llmretry.hint and llmretry.retry_after (the server's wait hint, in
// seconds), llmretry.wait (the wait before the next attempt), and the
// provider's llmretry.error.code, llmretry.error.type and
// llmretry.request_id. An attempt that failed has an error status. A span
// ends when its response body is closed or read to the end (the caller's
// for the last attempt, the Transport's for a discarded one), or at once
// after a transport error. Attributes hold no URL (an API key can travel in
// the query) and no header; provider strings are bounded and cleared of the
// request's credential. The propagator, if the program set one, injects the
// span's context into a copy of each attempt's request.
//
// Do not also wrap the Transport's Base in otelhttp: each attempt would then
// be measured twice in http.client.request.duration.
package llmretryotel
