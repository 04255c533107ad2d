// Package llmretry makes calls to LLM inference APIs survive rate limits,
// overload and flaky networks. Its [Transport] is an http.RoundTripper that
// sits under any http.Client or SDK:
//
//	client := &http.Client{Transport: &llmretry.Transport{}}
//
// Under an SDK, turn the SDK's own retries off, so that they do not multiply
// with these; with openai-go:
//
//	oc := openai.NewClient(option.WithHTTPClient(client), option.WithMaxRetries(0))
//
// Requests to api.openai.com then follow the "openai" policy (as openai-go
// would retry them, and paced per API key), api.anthropic.com the
// "anthropic" one, and so on. The repository's README and docs/ directory
// cover each concern at length: pacing, providers, fallback and streams, a
// fleet on Redis, observability, testing with package llmretrytest, errors,
// and the benchmark.
//
// # Vocabulary
//
// Configuration: a [Transport] (one per process, the RoundTripper) applies a
// [Policy] (what a provider's answers mean and how to retry them; built-in
// ones from [Provider] by name, routed by host with Transport.Hosts or
// [DefaultHosts]). A Policy maps statuses and error codes to a [Rule]: a
// [Class] and a [Retry] override. Its [Limits] pace requests per minute, as
// providers publish them; a [Limiter] enforces a [Pace], the same per
// second ([MemoryLimiter] in process, the redislimit module for a fleet).
// [RetryBudget] bounds retries in an outage; a [Target] is a fallback.
//
// Outcomes: a [Verdict] is what one attempt got (class, status, error code,
// wait hint); a [Decision] is what the Transport did next. An [APIError] is
// what the caller gets when the Transport stops on an error: the last
// attempt's Verdict, plus where and why it stopped (its Decision).
//
// Hooks: [Transport].Logger to log, one line per attempt; [Transport].Observer
// for metrics, tracing and tests ([AttemptInfo] after each attempt,
// [PacingWait] after each pacing wait; the otel module builds one); the
// response, or its APIError ([Transport].ReturnErrors, or [ParseError] of
// the response under an SDK), for the outcome of a call.
//
// What 0 means: in a configuration field, 0 means the default stated in the
// field's comment, and a negative value means none or off (Policy.MaxRetries
// -1: no retries; Transport.MaxBodyBuffer -1: no buffering). A function's
// argument means what it says: [WithMaxRetries](ctx, 0) means no retries.
//
// # What it does with each request
//
// It picks a [Policy] by the request's host, makes the body replayable
// (GetBody, or a bounded buffer), waits for the client-side pacer, and sends
// the attempt. It classifies the outcome by HTTP status and by the JSON error
// body's type and code into a [Class] — so that 429 rate_limit_exceeded is
// retried and 429 insufficient_quota is not — and retries what is worth retrying
// after the server's wait hint, or else after a jittered exponential backoff,
// as long as the wait ends before the request's deadline.
//
// When retries end, the last response is returned with a nil error and its
// body intact: SDKs parse their own errors. Set [Transport].ReturnErrors to get
// an [*APIError] instead, or build one from a response with [ParseError].
// Either way the APIError says why retrying stopped ([APIError].Decision: a
// permanent answer, retries exhausted, a wait over MaxWait or past the
// deadline, the retry budget, …), and so does its message; under an SDK,
// ParseError of the response that the SDK's error keeps gives it.
//
// # Wait hints
//
// The server's wait hint is read from headers, the error body or its
// message; the first valid one wins, in the order that [Verdict].Hint
// lists. A hint
// longer than the policy's MaxWait, or a wait that would end after the
// context's deadline, makes the Transport return the response at once rather
// than sleep. The X-Should-Retry: true|false header overrides the class.
//
// # Providers
//
// [Provider]("generic") suits any OpenAI-compatible API and recognises the
// formats of the others, as a proxy passes them on. "openai",
// "azure-openai", "anthropic", "gemini", "bedrock", "groq", "mistral",
// "openrouter", "deepseek", "xai", "together", "fireworks", "cerebras",
// "sambanova", "cencori", "solidrust", "gptgob" (a fictional provider with
// unusual error formats, not routed by default), "cloudflare" and "cohere"
// follow those providers' published error references and official SDKs;
// [DefaultHosts] routes their well-known hosts. "vllm", "tgi" (also behind
// Hugging Face Inference Endpoints) and "ollama" are for the servers you run
// yourself, which have no well-known host. Route other hosts (or patterns such as "*.example.com") to
// policies with [Transport].Hosts; derive a policy from a built-in one by
// changing its fields:
//
//	p := llmretry.Provider("openai")
//	p.MaxRetries = 4
//	p.Codes["gateway_busy"] = llmretry.Rule{Class: llmretry.ClassOverloaded} // a code your proxy adds
//	client := &http.Client{Transport: &llmretry.Transport{
//		Hosts: map[string]*llmretry.Policy{"llm-proxy.internal.example": p},
//	}}
//
// # Pacing
//
// Each policy's [Limits] pace requests per key (host and API key) with token
// buckets (requests/min, tokens/min estimated by [EstimateTokens], requests in
// flight). Without configured limits the Transport learns them from the
// rate-limit headers of every family in use (X-RateLimit-*, their -Requests,
// -Tokens and per-period variants, anthropic-ratelimit-*, the IETF RateLimit
// fields), or else from the rate the server accepts while it answers 429s,
// starting cautiously and growing; a 429 with a hint, or a limit with nothing
// left and a reset, pauses every request on the key, which then go at the
// learned pace. A key nothing limits waits for nothing. A [Limiter] (by
// default a [MemoryLimiter]) keeps the buckets, so a shared store can pace
// many processes.
//
// # Retry budget
//
// Each policy's [RetryBudget] (on by default) keeps retries to a share of the
// traffic plus a reserve, as Finagle's budget does, with successes earning
// more: a client keeps its retries while most answers are good. A retry the
// budget cannot pay for waits, within the request's deadline, for a probe to
// find the service back rather than failing: a short outage costs time, not
// requests, and a total one gets about 1.1 to 1.3 attempts a request. Rate
// limits and answers with wait hints do not count.
//
// # Fallback
//
// A policy's Fallbacks name other targets — another model on the same API
// ([Target].Model: the top-level "model" of the JSON body is rewritten, every
// other byte kept), or another endpoint ([Target].BaseURL, with its own
// credentials in Header; the first endpoint's never follow) — tried in order
// when the request's own target is overloaded, and as [Policy].FallbackOnRateLimit
// and FallbackOnExhausted opt in, rate limited or out of retries. Each target has its own policy, pacing,
// budget and hints. The caller gets the answer of the target that answered;
// its "model" field says which model, and [AttemptInfo].Target and
// [APIError].Target which target.
//
// # Streams
//
// A text/event-stream answer is returned once its first event has been read
// (bounded, given back byte for byte): a first event that is an error —
// data: {"error":…}, Anthropic's event: error, Gemini's [{"error":…}] — is
// classified like an error response, retried or sent to a fallback. Once the
// stream reaches the caller it passes through untouched.
// [Policy].FirstTokenTimeout and [WithFirstTokenTimeout] bound the wait for the
// first event; an attempt cut off by them matches [ErrFirstTokenTimeout].
//
// # Per-request control
//
// [WithMaxRetries], [WithoutFallback], [WithAttemptTimeout],
// [WithFirstTokenTimeout] and [WithPolicy] return contexts that change how one
// request is treated.
//
// # Errors
//
// Use errors.As to get an [*APIError] from a client error when ReturnErrors is
// set; its Class says what happened and Retryable whether waiting would help.
// A wait that a configured limit imposes beyond the deadline fails with an
// error that matches [ErrDeadline] under errors.Is. Cancelling the request's context
// stops any wait at once and returns the context's error. When retries end
// on a transport error, the error says how many attempts were made and over
// how long; errors.Is and errors.As still reach the last attempt's error,
// and a *url.Error stays one. A request that cannot be sent (nil URL or
// Header, invalid method or header, no host, unsupported scheme, a
// ContentLength its body does not match, a header HTTP/2 forbids) or whose
// body fails to read is not retried and does not spend the retry budget.
//
// No error, log line, hook event or [Verdict] contains a credential: the
// values of credential headers in any spelling (Authorization, X-Api-Key,
// api-key, X-Goog-Api-Key, Cookie, …), of key and token parameters of the
// query string, and of the URL's userinfo are redacted from every field the
// server or the network wrote, in any case, as sent or escaped (percent-
// encoding, JSON's \/ and \u002f, HTML entities), whole or cut short,
// before those fields are cut to length. (http.Client wraps errors in its
// own *url.Error, which quotes the URL: send keys in a header, not the query.)
//
// # Observability
//
// [Transport].Logger logs one line per attempt with log/slog.
// [Transport].Observer is for metrics, tracing and tests: it is told when each
// attempt starts, what it got ([AttemptInfo], with the pacing and
// retry-budget state), and how long pacing held it; the otel module
// (github.com/llmretry/llmretry/otel) makes one that records OpenTelemetry
// metrics and spans. The outcome of a call is its response, or an [*APIError]
// ([Transport].ReturnErrors, or [ParseError] of the response).
//
// # go-retryablehttp
//
// [RetryablehttpCheckRetry] and [RetryablehttpBackoff] plug this package's classification and hints into
// a retryablehttp.Client.
package llmretry
