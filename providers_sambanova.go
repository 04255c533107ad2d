package llmretry

// sambaNovaPolicy returns the policy for SambaNova Cloud. 408 request_timeout is
// retried; 429 insufficient_quota is documented as rate limiting by
// subscription tier, so it is retried with backoff (elsewhere the same code
// means an exhausted billing quota).
func sambaNovaPolicy() *Policy {
	return &Policy{
		Name: "sambanova",
		Codes: map[string]Rule{
			"context_length_exceeded": {Class: ClassContextLength},
			"invalid_type":            {Class: ClassInvalidRequest},
			"decimal_above_max_value": {Class: ClassInvalidRequest},
			"decimal_below_min_value": {Class: ClassInvalidRequest},
			"integer_above_max_value": {Class: ClassInvalidRequest},
			"integer_below_min_value": {Class: ClassInvalidRequest},
			"model_not_found":         {Class: ClassNotFound},
			"invalid_authentication":  {Class: ClassAuth},
			"request_timeout":         {Class: ClassTimeout},
			"insufficient_quota":      {Class: ClassRateLimited},
		},
	}
}
