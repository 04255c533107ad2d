package llmretry

import "time"

// Gemini returns the policy for Google's Gemini API
// (generativelanguage.googleapis.com) and Vertex AI
// (aiplatform.googleapis.com, REGION-aiplatform.googleapis.com), following
// go-genai's retry options: 408, 429, 500, 502, 503 and 504 are retried,
// 5 attempts, backoff from 1 s to 60 s. Errors are
// {"error":{"code","message","status","details":[…]}}: the status
// (RESOURCE_EXHAUSTED, UNAVAILABLE, …) is the type, an ErrorInfo reason
// (API_KEY_INVALID, MODEL_CAPACITY_EXHAUSTED, …) the code, and the wait is
// RetryInfo's retryDelay. A QuotaFailure (or ErrorInfo metadata quota_limit)
// on a …PerDay… quota, or a quota whose limit is 0 (a model the free tier
// does not serve), is not retried, whatever RetryInfo says.
func Gemini() *Policy {
	return &Policy{
		Name:       "gemini",
		MaxRetries: 4,
		BaseDelay:  time.Second,
		MaxDelay:   60 * time.Second,
		Codes: map[string]Rule{
			// error.status
			"invalid_argument":    {Class: InvalidRequest},
			"failed_precondition": {Class: Permission}, // "Gemini API free tier is not available in your country"
			"unauthenticated":     {Class: Auth},
			"permission_denied":   {Class: Permission},
			"not_found":           {Class: NotFound},
			"resource_exhausted":  {Class: RateLimited},
			"internal":            {Class: ServerError},
			"unavailable":         {Class: Overloaded},
			"deadline_exceeded":   {Class: Timeout},
			// ErrorInfo.reason
			"api_key_invalid":          {Class: Auth},
			"rate_limit_exceeded":      {Class: RateLimited},
			"model_capacity_exhausted": {Class: ModelOverloaded},
			"service_disabled":         {Class: Permission},
			"consumer_suspended":       {Class: Permission},
			"billing_disabled":         {Class: QuotaExhausted},
		},
		Statuses: map[int]Rule{
			408: {Class: Timeout},
			500: {Class: ServerError},
			502: {Class: ServerError},
			503: {Class: Overloaded},
			504: {Class: Timeout},
		},
	}
}
