package llmretry

// mistralPolicy returns the policy for La Plateforme (api.mistral.ai), whose
// errors are flat: {"object":"error","message","type","param","code"}. Its
// SDKs retry 429, 500, 502, 503 and 504. 429 rate_limited (code "1300") is
// retried; "Service tier capacity exceeded for this model." is the model at
// capacity (ModelOverloaded, retried), whatever its type says.
func mistralPolicy() *Policy {
	return &Policy{
		Name: "mistral",
		Codes: map[string]Rule{
			"rate_limited":                   {Class: ClassRateLimited},
			"1300":                           {Class: ClassRateLimited},
			"service_tier_capacity_exceeded": {Class: ClassModelOverloaded},
			"invalid_request_message_error":  {Class: ClassInvalidRequest},
		},
		Statuses: map[int]Rule{
			401: {Class: ClassAuth},
			422: {Class: ClassInvalidRequest},
			429: {Class: ClassRateLimited},
			503: {Class: ClassOverloaded},
		},
	}
}
