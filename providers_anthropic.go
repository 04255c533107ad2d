package llmretry

// anthropicPolicy returns the policy for the Claude API (api.anthropic.com),
// following anthropic-sdk-go: 408, 409, 429 and every status ≥ 500 (529
// overloaded_error included) are retried, 2 retries, backoff from 0.5 s to
// 8 s, retry-after-ms then Retry-After honored, X-Should-Retry obeyed.
// Every error type of its reference is mapped; invalid_request_error, which
// it "may also use for other 4XX status codes", leaves the class to the
// status (so a 408 or 409 with it is retried, as the SDK does). A 429 whose
// error.details.error_code is enforced_spend_limit_reached is the monthly
// spend cap, not retried; so is a 400 for a spend limit you set ("You have
// reached your specified API usage limits") or a low credit balance.
func anthropicPolicy() *Policy {
	return &Policy{
		Name: "anthropic",
		Codes: map[string]Rule{
			"authentication_error":         {Class: ClassAuth},
			"billing_error":                {Class: ClassQuotaExhausted},
			"permission_error":             {Class: ClassPermission},
			"not_found_error":              {Class: ClassNotFound},
			"conflict_error":               {Class: ClassConflict, Retry: RetryAlways}, // the SDK retries 409
			"request_too_large":            {Class: ClassInvalidRequest},
			"rate_limit_error":             {Class: ClassRateLimited},
			"enforced_spend_limit_reached": {Class: ClassQuotaExhausted},
			"api_error":                    {Class: ClassServerError},
			"timeout_error":                {Class: ClassTimeout},
			"overloaded_error":             {Class: ClassOverloaded},
		},
		Statuses: map[int]Rule{
			409: {Class: ClassConflict, Retry: RetryAlways},
			529: {Class: ClassOverloaded},
		},
	}
}
