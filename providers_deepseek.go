package llmretry

// DeepSeek returns the policy for the DeepSeek API (api.deepseek.com). Its
// bodies often say only "invalid_request_error", so the status decides:
// 402 Insufficient Balance is not retried; 429 Rate Limit Reached, 500
// Server Error and 503 Server Overloaded are.
func DeepSeek() *Policy {
	return &Policy{
		Name: "deepseek",
		Statuses: map[int]Rule{
			400: {Class: InvalidRequest},
			401: {Class: Auth},
			402: {Class: QuotaExhausted},
			422: {Class: InvalidRequest},
			429: {Class: RateLimited},
			500: {Class: ServerError},
			503: {Class: Overloaded},
		},
	}
}
