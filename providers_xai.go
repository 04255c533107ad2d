package llmretry

// XAI returns the policy for the xAI API (api.x.ai), whose errors are
// {"code":"<gRPC status text>","error":"<message>"}. 429 is retried; 400
// "Incorrect API key provided" is an auth failure, and a 403 for credits
// used up or a spending limit reached is an exhausted quota, neither
// retried.
func XAI() *Policy {
	return &Policy{
		Name: "xai",
		Statuses: map[int]Rule{
			400: {Class: InvalidRequest},
			401: {Class: Auth},
			403: {Class: Permission},
			404: {Class: NotFound},
			405: {Class: InvalidRequest},
			415: {Class: InvalidRequest},
			422: {Class: InvalidRequest},
			429: {Class: RateLimited},
		},
	}
}
