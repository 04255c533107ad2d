package llmretry

// togetherPolicy returns the policy for Together AI (api.together.xyz,
// api.together.ai). 429 (dynamic_request_limited, dynamic_token_limited) is
// retried, honoring its x-ratelimit-reset; 503 Engine Overloaded, 504 and
// 524 timeouts, 520 and 529 server errors are retried; 402 (spending limit
// or credits) and 403 (prompt plus max_tokens over the context length) are
// not.
func togetherPolicy() *Policy {
	return &Policy{
		Name: "together",
		Codes: map[string]Rule{
			"dynamic_request_limited": {Class: ClassRateLimited},
			"dynamic_token_limited":   {Class: ClassRateLimited},
		},
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			402: {Class: ClassQuotaExhausted},
			403: {Class: ClassContextLength},
			404: {Class: ClassNotFound},
			429: {Class: ClassRateLimited},
			500: {Class: ClassServerError},
			503: {Class: ClassOverloaded},
			504: {Class: ClassTimeout},
			520: {Class: ClassServerError},
			524: {Class: ClassTimeout},
			529: {Class: ClassServerError},
		},
	}
}
