package llmretry

// groqPolicy returns the policy for GroqCloud (api.groq.com), whose errors are
// OpenAI-shaped and whose 429s carry retry-after. Following its SDK, 408,
// 409, 429 and every status ≥ 500 are retried, 2 retries. 498 (flex tier
// capacity_exceeded) is retried; 413 and a "Request too large … on tokens
// per minute (TPM): Limit N, Requested M" are not; neither are 422, 424
// (failed dependency, e.g. a remote MCP server's auth) and 499 (cancelled).
func groqPolicy() *Policy {
	return &Policy{
		Name: "groq",
		Codes: map[string]Rule{
			"rate_limit_exceeded": {Class: ClassRateLimited},
			"capacity_exceeded":   {Class: ClassOverloaded},
			"invalid_api_key":     {Class: ClassAuth},
			"model_not_found":     {Class: ClassNotFound},
		},
		Statuses: map[int]Rule{
			409: {Class: ClassConflict, Retry: RetryAlways},
			413: {Class: ClassInvalidRequest},
			422: {Class: ClassInvalidRequest},
			424: {Class: ClassInvalidRequest},
			498: {Class: ClassOverloaded},
			499: {Class: ClassCanceled},
			502: {Class: ClassServerError},
			503: {Class: ClassOverloaded},
		},
	}
}
