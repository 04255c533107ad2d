// Package llmretrytest is a fake LLM provider for tests: an httptest server
// that answers chat completions (OpenAI-compatible, and Anthropic's Messages
// API on paths ending in /messages), plays scripted errors in each
// provider's exact format, enforces a provider-like rate limit if asked, and
// logs every request it receives. A Server is safe for simultaneous use by
// multiple goroutines.
//
// # What to use for what
//
//   - Start a server: [Start] in a test (closed when the test ends), or
//     [NewServer] and [Server.Close]. Point the client at Server.URL.
//   - Script answers: [Server.Enqueue] queues a [Step] for each next
//     request, [Server.EnqueueModel] for requests naming one model;
//     [Server.Respond] decides the rest. Without them every request gets a
//     success: [Completion], [Stream], [Message] or [MessageStream].
//   - Write an error as a provider does: a [Dialect], named by string,
//     gives its canned answers (RateLimit, QuotaExhausted, Overloaded, ServerError,
//     AbortedStream) and writes any [ErrorReply] (Error, StreamError):
//     llmretrytest.Dialect("anthropic").RateLimit(2). [Dialects] lists the
//     known names.
//   - Check what the client did: [Server.Requests] logs each request
//     ([Request]: arrival order, attempt number of the same body, whether
//     it came before the advised wait), [Server.Connections] counts
//     connections.
//   - Rate-limit the server: [Server.SetLimit] with a [LimitSpec], usually
//     from a [Style], and [Server.LimitCounts] for what it admitted and
//     refused.
//
// # Limits
//
// A limit is the server's own, enforced per credential (the Authorization
// or X-Api-Key value) on the server's clock, not a script: it answers 429
// exactly when a real provider with that limit would. The words:
//
//   - [LimitSpec]: one whole limit, what [Server.SetLimit] takes: its
//     quotas, the [Dialect] of its 429 body, how it is announced, the clock.
//   - [Quota]: one count the limit keeps, in a [Unit] (requests, tokens,
//     input or output tokens): a token bucket ([Bucket]) or a fixed window
//     ([Window]). A request must fit in every quota.
//   - [Style]: how a real provider announces its limit (rate-limit headers,
//     reset format, Retry-After or retry-after-ms, a wait in the body), named
//     by string; [Style.Spec] returns a LimitSpec in that style. [Styles]
//     lists them: OpenAI's, Groq's, GitHub's, Cencori's, Cerebras's and
//     Anthropic's announcements, Retry-After only, retry-after-ms only, a
//     bare 429, and others.
//   - [RequestTokens]: what a request counts against a token quota.
//
// Limit a server to 10 requests per second with bursts of 2, announced and
// answered as OpenAI does:
//
//	srv.SetLimit(llmretrytest.Style("openai").Spec(llmretrytest.Requests, 10, 2))
//
// The same with another provider's 429 body, or on a fake clock:
//
//	spec := llmretrytest.Style("openai").Spec(llmretrytest.Requests, 10, 2)
//	spec.Dialect = "gptgob"
//	spec.Clock = clock.Now
//	srv.SetLimit(spec)
//
// Steps queued with Enqueue bypass the limit; answers from Respond and the
// default success answer are subject to it.
//
// These are not llmretry's words: llmretry's Limits and Pace configure the
// client's own pacing, and its Verdict.Hint says where the client found a
// wait; here a limit is what the fake server enforces.
package llmretrytest
