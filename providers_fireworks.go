package llmretry

// Fireworks returns the policy for Fireworks AI (api.fireworks.ai). 408 and
// 429 (rate limited, or a deployment's capacity exceeded) are retried, as are
// server errors; 402 (not on a paid plan or over usage limits) and 412
// (account suspended, or a LoRA that failed to load) are not.
func Fireworks() *Policy {
	return &Policy{
		Name: "fireworks",
		Statuses: map[int]Rule{
			400: {Class: InvalidRequest},
			401: {Class: Auth},
			402: {Class: QuotaExhausted},
			403: {Class: Permission},
			404: {Class: NotFound},
			405: {Class: InvalidRequest},
			408: {Class: Timeout},
			412: {Class: Permission},
			413: {Class: InvalidRequest},
			429: {Class: RateLimited},
		},
	}
}
