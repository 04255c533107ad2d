package llmretry

// xAIPolicy returns the policy for the xAI API (api.x.ai), whose errors are
// {"code":"<gRPC status text>","error":"<message>"}. 429 is retried; 400
// "Incorrect API key provided" is an auth failure, and a 403 for credits
// used up or a spending limit reached is an exhausted quota, neither
// retried.
func xAIPolicy() *Policy {
	return &Policy{
		Name: "xai",
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			401: {Class: ClassAuth},
			403: {Class: ClassPermission},
			404: {Class: ClassNotFound},
			405: {Class: ClassInvalidRequest},
			415: {Class: ClassInvalidRequest},
			422: {Class: ClassInvalidRequest},
			429: {Class: ClassRateLimited},
		},
	}
}
