package llmretry

import "time"

// Cerebras returns the policy for the Cerebras Inference API, following its
// SDK: connection errors, 408, 429 and every status ≥ 500 are retried,
// 2 retries, and an attempt times out after 60 s. 402 is payment required
// (QuotaExhausted), not retried. Its 429 bodies name the exhausted limit
// (too_many_requests_error with request_quota_exceeded or
// token_quota_exceeded); "Requests per day limit exceeded" without a wait
// hint is an exhausted daily quota, not retried.
func Cerebras() *Policy {
	return &Policy{
		Name:           "cerebras",
		MaxRetries:     2,
		AttemptTimeout: 60 * time.Second,
		Codes: map[string]Rule{
			"too_many_requests_error": {Class: RateLimited},
			"request_quota_exceeded":  {Class: RateLimited}, // "Requests per minute limit exceeded - too many requests sent."
			"token_quota_exceeded":    {Class: RateLimited}, // "Tokens per minute limit exceeded - too many tokens processed."
			"payment_required":        {Class: QuotaExhausted},
		},
		Statuses: map[int]Rule{
			400: {Class: InvalidRequest},
			401: {Class: Auth},
			402: {Class: QuotaExhausted},
			403: {Class: Permission},
			404: {Class: NotFound},
			408: {Class: Timeout},
			422: {Class: InvalidRequest},
			429: {Class: RateLimited},
			500: {Class: ServerError},
			501: {Class: ServerError}, // "≥ 500 internal errors" are all retried
			503: {Class: Overloaded},
			505: {Class: ServerError},
		},
	}
}
