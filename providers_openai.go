package llmretry

// OpenAI returns the policy for the OpenAI API (api.openai.com), following
// openai-go: 408, 409, 429 and every status ≥ 500 are retried, 2 retries,
// backoff from 0.5 s to 8 s, retry-after-ms then Retry-After honored, and
// X-Should-Retry obeyed. 429 insufficient_quota ("You exceeded your current
// quota") is not retried; neither is a "Request too large … Limit N,
// Requested M" that no wait can fit.
func OpenAI() *Policy {
	return &Policy{
		Name: "openai",
		Codes: map[string]Rule{
			"invalid_api_key":                      {Class: Auth},
			"invalid_organization":                 {Class: Auth},
			"unsupported_country_region_territory": {Class: Permission},
			"model_not_found":                      {Class: NotFound},
			"context_length_exceeded":              {Class: ContextLength},
			"content_policy_violation":             {Class: ContentFiltered},
			"rate_limit_exceeded":                  {Class: RateLimited},
			"insufficient_quota":                   {Class: QuotaExhausted},
			"billing_hard_limit_reached":           {Class: QuotaExhausted},
		},
		Statuses: map[int]Rule{
			409: {Class: Conflict, Retry: RetryAlways}, // openai-go retries 409
			503: {Class: Overloaded},
		},
	}
}
