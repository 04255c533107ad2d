package llmretry

// Together returns the policy for Together AI (api.together.xyz,
// api.together.ai). 429 (dynamic_request_limited, dynamic_token_limited) is
// retried, honoring its x-ratelimit-reset; 503 Engine Overloaded, 504 and
// 524 timeouts, 520 and 529 server errors are retried; 402 (spending limit
// or credits) and 403 (prompt plus max_tokens over the context length) are
// not.
func Together() *Policy {
	return &Policy{
		Name: "together",
		Codes: map[string]Rule{
			"dynamic_request_limited": {Class: RateLimited},
			"dynamic_token_limited":   {Class: RateLimited},
		},
		Statuses: map[int]Rule{
			400: {Class: InvalidRequest},
			401: {Class: Auth},
			402: {Class: QuotaExhausted},
			403: {Class: ContextLength},
			404: {Class: NotFound},
			429: {Class: RateLimited},
			500: {Class: ServerError},
			503: {Class: Overloaded},
			504: {Class: Timeout},
			520: {Class: ServerError},
			524: {Class: Timeout},
			529: {Class: ServerError},
		},
	}
}
