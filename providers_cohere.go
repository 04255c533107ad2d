package llmretry

// coherePolicy returns the policy for Cohere's API (api.cohere.com, formerly
// api.cohere.ai), whose errors are {"message": string}. Its limits are
// per minute (trial keys 20 chat requests a minute, production 500) and,
// for trial keys, 1,000 API calls a month: a 429 that names the month (or
// any window of a day or longer) and gives no wait is an exhausted quota,
// not retried; a per-minute 429 is retried. 402 (payment required) is not
// retried; 499 (the request was cancelled) is not either. Attempts and
// backoff are the generic ones.
func coherePolicy() *Policy {
	return &Policy{
		Name: "cohere",
		// The errors page's sections, spelled out (only 499 differs from
		// the generic rules).
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			402: {Class: ClassQuotaExhausted},
			404: {Class: ClassNotFound},
			429: {Class: ClassRateLimited},
			499: {Class: ClassCanceled},
			500: {Class: ClassServerError},
		},
	}
}
