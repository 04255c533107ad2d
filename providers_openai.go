package llmretry

// openAIPolicy returns the policy for the OpenAI API (api.openai.com), following
// openai-go: 408, 409, 429 and every status ≥ 500 are retried, 2 retries,
// backoff from 0.5 s to 8 s, retry-after-ms then Retry-After honored, and
// X-Should-Retry obeyed. 429 insufficient_quota ("You exceeded your current
// quota") is not retried; neither is a "Request too large … Limit N,
// Requested M" that no wait can fit.
func openAIPolicy() *Policy {
	return &Policy{
		Name: "openai",
		Codes: map[string]Rule{
			"invalid_api_key":                      {Class: ClassAuth},
			"invalid_organization":                 {Class: ClassAuth},
			"unsupported_country_region_territory": {Class: ClassPermission},
			"model_not_found":                      {Class: ClassNotFound},
			"context_length_exceeded":              {Class: ClassContextLength},
			"content_policy_violation":             {Class: ClassContentFiltered},
			"rate_limit_exceeded":                  {Class: ClassRateLimited},
			"insufficient_quota":                   {Class: ClassQuotaExhausted},
			"billing_hard_limit_reached":           {Class: ClassQuotaExhausted},
		},
		Statuses: map[int]Rule{
			409: {Class: ClassConflict, Retry: RetryAlways}, // openai-go retries 409
			503: {Class: ClassOverloaded},
		},
	}
}
