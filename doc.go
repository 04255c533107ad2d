// Package llmretry makes calls to LLM inference APIs survive rate limits,
// overload and flaky networks. Its [Transport] is an http.RoundTripper for any
// http.Client or SDK; under an SDK, turn the SDK's own retries off:
//
//	client := &http.Client{Transport: &llmretry.Transport{}}
//	oc := openai.NewClient(option.WithHTTPClient(client), option.WithMaxRetries(0))
//
// Each request follows its host's policy ("generic" for unknown hosts): it is
// classified by status and JSON error code, retried after the server's wait
// hint or a backoff within its deadline, and paced per API key.
//
// # Vocabulary
//
// Configuration: a [Transport] (one per process) applies a [Policy] (what a
// provider's answers mean and how to retry them; [Provider] by name, routed by
// host with Transport.Hosts). A Policy maps statuses and error codes to a
// [Rule]: a [Class] and a [Retry] override. Its [Limits] pace requests per
// minute; a [Limiter] enforces a [Pace], the same per second ([MemoryLimiter],
// or the redislimit module for a fleet, a [LearningLimiter] that also holds
// one learned estimate for all its processes); requests waiting on one key go by
// [WithPriority], then by [WithTenant]'s fair shares. [RetryBudget] bounds
// retries in an outage; a [Target] is a fallback, or one of a Policy's Pool
// that share its load.
//
// Outcomes: a [Verdict] is what one attempt got; a [Decision] is what the
// Transport did next. When it stops on an error, the caller gets the last
// response, body intact, or with [Transport].ReturnErrors an [*APIError]: the
// last attempt's Verdict and the Decision that ended the call ([ParseError]
// gives it from a response).
//
// Hooks: Transport.Logger logs one line per attempt; Transport.Observer is for
// metrics, tracing and tests ([AttemptInfo], [PacingWait]; the otel module
// builds one); the response, or its APIError, is the outcome of a call.
//
// What 0 means: in a configuration field, the default its comment states; a
// negative value means none or off (Policy.MaxRetries -1: no retries). A
// function's argument means what it says: [WithMaxRetries](ctx, 0), none.
//
// # Guides
//
// In https://github.com/llmretry/llmretry/tree/main/docs: pacing.md,
// priority.md (interactive before batch, fair shares by tenant),
// providers.md (codes, wait hints, go-retryablehttp), fallback.md (and
// streams), pool.md (several keys or deployments), redis.md, observability.md (otel), errors.md (stop reasons,
// per-request control, retry budget), sdks.md, testing.md (llmretrytest).
package llmretry
