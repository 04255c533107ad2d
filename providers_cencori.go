package llmretry

// cencoriPolicy returns the policy for Cencori, whose errors are flat:
// {"error":"…","code":"…","status":N,"details":{}}. INSUFFICIENT_CREDITS (403)
// is an exhausted quota and SECURITY_VIOLATION (403) a content filter, neither
// retried; RATE_LIMIT_EXCEEDED (429) and PROVIDER_ERROR (503) are retried,
// honoring Retry-After and X-RateLimit-Reset (a Unix timestamp).
func cencoriPolicy() *Policy {
	return &Policy{
		Name: "cencori",
		Codes: map[string]Rule{
			"invalid_api_key":      {Class: ClassAuth},
			"security_violation":   {Class: ClassContentFiltered},
			"rate_limit_exceeded":  {Class: ClassRateLimited},
			"insufficient_credits": {Class: ClassQuotaExhausted},
			"provider_error":       {Class: ClassOverloaded},
		},
		Statuses: map[int]Rule{
			403: {Class: ClassPermission},
			503: {Class: ClassOverloaded},
		},
	}
}
