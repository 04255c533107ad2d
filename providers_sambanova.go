package llmretry

// SambaNova returns the policy for SambaNova Cloud. 408 request_timeout is
// retried; 429 insufficient_quota is documented as rate limiting by
// subscription tier, so it is retried with backoff (elsewhere the same code
// means an exhausted billing quota).
func SambaNova() *Policy {
	return &Policy{
		Name: "sambanova",
		Codes: map[string]Rule{
			"context_length_exceeded": {Class: ContextLength},
			"invalid_type":            {Class: InvalidRequest},
			"decimal_above_max_value": {Class: InvalidRequest},
			"decimal_below_min_value": {Class: InvalidRequest},
			"integer_above_max_value": {Class: InvalidRequest},
			"integer_below_min_value": {Class: InvalidRequest},
			"model_not_found":         {Class: NotFound},
			"invalid_authentication":  {Class: Auth},
			"request_timeout":         {Class: Timeout},
			"insufficient_quota":      {Class: RateLimited},
		},
	}
}
