package llmretry

// openRouterPolicy returns the policy for OpenRouter (openrouter.ai), whose errors
// are {"error":{"code":N,"message","metadata":{…}}} with code equal to the
// status. 402 (insufficient credits) and 403 (moderation flagged the input)
// are not retried; 408 and 429 are; 502 (the chosen model is down) and 503
// (no provider meets the routing requirements) are retried as a model's
// overload, which another model may not share. The reset of its own rate
// limits comes in error.metadata.headers (X-RateLimit-Reset, Unix ms); an
// upstream provider's error in error.metadata.raw.
func openRouterPolicy() *Policy {
	return &Policy{
		Name: "openrouter",
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			402: {Class: ClassQuotaExhausted},
			403: {Class: ClassContentFiltered},
			408: {Class: ClassTimeout},
			429: {Class: ClassRateLimited},
			502: {Class: ClassModelOverloaded},
			503: {Class: ClassModelOverloaded},
		},
	}
}
