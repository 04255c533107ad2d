package llmretry

import "time"

// cerebrasPolicy returns the policy for the Cerebras Inference API, following its
// SDK: connection errors, 408, 429 and every status ≥ 500 are retried,
// 2 retries, and an attempt times out after 60 s. 402 is payment required
// (QuotaExhausted), not retried. Its 429 bodies name the exhausted limit
// (too_many_requests_error with request_quota_exceeded or
// token_quota_exceeded); "Requests per day limit exceeded" without a wait
// hint is an exhausted daily quota, not retried.
func cerebrasPolicy() *Policy {
	return &Policy{
		Name:           "cerebras",
		MaxRetries:     2,
		AttemptTimeout: 60 * time.Second,
		Codes: map[string]Rule{
			"too_many_requests_error": {Class: ClassRateLimited},
			"request_quota_exceeded":  {Class: ClassRateLimited}, // "Requests per minute limit exceeded - too many requests sent."
			"token_quota_exceeded":    {Class: ClassRateLimited}, // "Tokens per minute limit exceeded - too many tokens processed."
			"payment_required":        {Class: ClassQuotaExhausted},
		},
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			402: {Class: ClassQuotaExhausted},
			403: {Class: ClassPermission},
			404: {Class: ClassNotFound},
			408: {Class: ClassTimeout},
			422: {Class: ClassInvalidRequest},
			429: {Class: ClassRateLimited},
			500: {Class: ClassServerError},
			501: {Class: ClassServerError}, // "≥ 500 internal errors" are all retried
			503: {Class: ClassOverloaded},
			505: {Class: ClassServerError},
		},
	}
}
