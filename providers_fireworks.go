package llmretry

// fireworksPolicy returns the policy for Fireworks AI (api.fireworks.ai). 408 and
// 429 (rate limited, or a deployment's capacity exceeded) are retried, as are
// server errors; 402 (not on a paid plan or over usage limits) and 412
// (account suspended, or a LoRA that failed to load) are not.
func fireworksPolicy() *Policy {
	return &Policy{
		Name: "fireworks",
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			402: {Class: ClassQuotaExhausted},
			403: {Class: ClassPermission},
			404: {Class: ClassNotFound},
			405: {Class: ClassInvalidRequest},
			408: {Class: ClassTimeout},
			412: {Class: ClassPermission},
			413: {Class: ClassInvalidRequest},
			429: {Class: ClassRateLimited},
		},
	}
}
