package llmretry

// deepSeekPolicy returns the policy for the DeepSeek API (api.deepseek.com). Its
// bodies often say only "invalid_request_error", so the status decides:
// 402 Insufficient Balance is not retried; 429 Rate Limit Reached, 500
// Server Error and 503 Server Overloaded are.
func deepSeekPolicy() *Policy {
	return &Policy{
		Name: "deepseek",
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			402: {Class: ClassQuotaExhausted},
			422: {Class: ClassInvalidRequest},
			429: {Class: ClassRateLimited},
			500: {Class: ClassServerError},
			503: {Class: ClassOverloaded},
		},
	}
}
