package llmretry

import "time"

// geminiPolicy returns the policy for Google's Gemini API
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
func geminiPolicy() *Policy {
	return &Policy{
		Name:       "gemini",
		MaxRetries: 4,
		BaseDelay:  time.Second,
		MaxDelay:   60 * time.Second,
		Codes: map[string]Rule{
			// error.status
			"invalid_argument":    {Class: ClassInvalidRequest},
			"failed_precondition": {Class: ClassPermission}, // "Gemini API free tier is not available in your country"
			"unauthenticated":     {Class: ClassAuth},
			"permission_denied":   {Class: ClassPermission},
			"not_found":           {Class: ClassNotFound},
			"resource_exhausted":  {Class: ClassRateLimited},
			"internal":            {Class: ClassServerError},
			"unavailable":         {Class: ClassOverloaded},
			"deadline_exceeded":   {Class: ClassTimeout},
			// ErrorInfo.reason
			"api_key_invalid":          {Class: ClassAuth},
			"rate_limit_exceeded":      {Class: ClassRateLimited},
			"model_capacity_exhausted": {Class: ClassModelOverloaded},
			"service_disabled":         {Class: ClassPermission},
			"consumer_suspended":       {Class: ClassPermission},
			"billing_disabled":         {Class: ClassQuotaExhausted},
		},
		Statuses: map[int]Rule{
			408: {Class: ClassTimeout},
			500: {Class: ClassServerError},
			502: {Class: ClassServerError},
			503: {Class: ClassOverloaded},
			504: {Class: ClassTimeout},
		},
	}
}
