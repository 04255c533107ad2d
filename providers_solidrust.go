package llmretry

import "time"

// solidRusTPolicy returns the policy for the SolidRusT AI API (OpenAI-style nested
// errors). Its 429 states the wait only in the message ("Please retry after
// 60 seconds."), which the default MaxWait (2 min) honors; following its documented
// retry strategy, a request is tried up to 5 times with a 1 s base delay.
func solidRusTPolicy() *Policy {
	return &Policy{
		Name:       "solidrust",
		MaxRetries: 4,
		BaseDelay:  time.Second,
		Codes: map[string]Rule{
			"authentication_error":  {Class: ClassAuth},
			"invalid_api_key":       {Class: ClassAuth},
			"rate_limit_error":      {Class: ClassRateLimited},
			"rate_limit_exceeded":   {Class: ClassRateLimited},
			"invalid_request_error": {Class: ClassInvalidRequest},
			"invalid_parameter":     {Class: ClassInvalidRequest},
		},
		Statuses: map[int]Rule{
			503: {Class: ClassOverloaded},
		},
	}
}
