package llmretry

// Mistral returns the policy for La Plateforme (api.mistral.ai), whose
// errors are flat: {"object":"error","message","type","param","code"}. Its
// SDKs retry 429, 500, 502, 503 and 504. 429 rate_limited (code "1300") is
// retried; "Service tier capacity exceeded for this model." is the model at
// capacity (ModelOverloaded, retried), whatever its type says.
func Mistral() *Policy {
	return &Policy{
		Name: "mistral",
		Codes: map[string]Rule{
			"rate_limited":                   {Class: RateLimited},
			"1300":                           {Class: RateLimited},
			"service_tier_capacity_exceeded": {Class: ModelOverloaded},
			"invalid_request_message_error":  {Class: InvalidRequest},
		},
		Statuses: map[int]Rule{
			401: {Class: Auth},
			422: {Class: InvalidRequest},
			429: {Class: RateLimited},
			503: {Class: Overloaded},
		},
	}
}
