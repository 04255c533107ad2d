package llmretry

import (
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func geminiRow(doc string, status int, googleStatus string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("gemini"), doc, llmretrytest.ErrorReply{Status: status, Type: googleStatus}, class, retried)
}

// geminiDaily is a real per-day quota answer: Google attaches a RetryInfo to
// it, though the quota only comes back the next day.
const geminiDaily = `{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 250, model: gemini-2.5-flash\nPlease retry in 1.837906927s.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "250"}]},
      {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.837906927s"}
    ]
  }
}`

// TestGemini covers the Gemini API's backend error codes (ai.google.dev/gemini-api/docs/troubleshooting),
// its rate-limit answers, and go-genai's retry options (common.go: defaultRetry*).
func TestGemini(t *testing.T) {
	t.Parallel()
	g := llmretrytest.Dialect("gemini")
	perMinute := "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
	rows := []providerRow{
		// "| 400 | INVALID_ARGUMENT | The request body is malformed."
		geminiRow("400 INVALID_ARGUMENT", 400, "INVALID_ARGUMENT", ClassInvalidRequest, false),
		// "| 400 | FAILED_PRECONDITION | Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio."
		geminiRow("400 FAILED_PRECONDITION", 400, "FAILED_PRECONDITION", ClassPermission, false),
		// {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "…ErrorInfo", "reason": "API_KEY_INVALID"…
		dRow(g, "400 API key not valid (ErrorInfo API_KEY_INVALID)", llmretrytest.ErrorReply{Status: 400, Type: "INVALID_ARGUMENT", Code: "API_KEY_INVALID",
			Message: "API key not valid. Please pass a valid API key."}, ClassAuth, false),
		// "| 403 | PERMISSION_DENIED | Your API key doesn't have the required permissions."
		geminiRow("403 PERMISSION_DENIED", 403, "PERMISSION_DENIED", ClassPermission, false),
		// "| 404 | NOT_FOUND | The requested resource wasn't found."
		geminiRow("404 NOT_FOUND", 404, "NOT_FOUND", ClassNotFound, false),
		// "| 429 | RESOURCE_EXHAUSTED | You've exceeded the rate limit." The wait is RetryInfo's retryDelay only.
		{doc: "429 RESOURCE_EXHAUSTED per minute, RetryInfo 3s", step: g.RateLimit(3), class: ClassRateLimited, retried: true, wait: 3 * time.Second},
		rawRow(`RetryInfo "1.837906927s" (fractional)`, 429, nil,
			`{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.837906927s"}]}}`,
			ClassRateLimited, true, 1837906927*time.Nanosecond),
		// Vertex AI: "Resource exhausted. Please try again later." — no hint, backoff.
		rawRow("Vertex 429 Resource exhausted", 429, nil,
			`{"error":{"code":429,"message":"Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.","status":"RESOURCE_EXHAUSTED"}}`,
			ClassRateLimited, true, 0),
		// A …PerDay… quota is not back in 1.8 s, whatever RetryInfo says.
		rawRow("429 QuotaFailure GenerateRequestsPerDay…, RetryInfo ignored", 429, nil, geminiDaily, ClassQuotaExhausted, false, 0),
		{doc: "429 per-day quota (dialect)", step: g.QuotaExhausted(), class: ClassQuotaExhausted},
		// The free tier does not serve the model at all: "limit: 0".
		dRow(g, "429 limit: 0", llmretrytest.ErrorReply{Status: 429, Type: "RESOURCE_EXHAUSTED", Quota: perMinute, RetryAfter: 20,
			Message: "You exceeded your current quota, please check your plan and billing details.\n* Quota exceeded for metric: " +
				"generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, limit: 0, model: gemini-2.5-pro\nPlease retry in 20s."}, ClassQuotaExhausted, false),
		// Google Cloud names the quota in ErrorInfo.metadata: quota_limit, quota_limit_value.
		rawRow("429 ErrorInfo RATE_LIMIT_EXCEEDED, metadata quota_limit …PerDay…", 429, nil,
			`{"error":{"code":429,"message":"Quota exceeded for quota metric 'Generate Content API requests per day' and limit 'GenerateContent request limit per day for a region' of service 'generativelanguage.googleapis.com' for consumer 'project_number:123'.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com","metadata":{"quota_limit":"GenerateContentRequestsPerDayPerProjectPerRegion","quota_limit_value":"1500","quota_location":"us-central1","service":"generativelanguage.googleapis.com","consumer":"projects/123","quota_metric":"generativelanguage.googleapis.com/generate_content_requests"}}]}}`,
			ClassQuotaExhausted, false, 0),
		rawRow("429 ErrorInfo RATE_LIMIT_EXCEEDED, metadata quota_limit …PerMinute…", 429, nil,
			`{"error":{"code":429,"message":"Quota exceeded for quota metric 'Generate Content API requests per minute'.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com","metadata":{"quota_limit":"GenerateContentRequestsPerMinutePerProjectPerRegion","quota_limit_value":"60"}}]}}`,
			ClassRateLimited, true, 0),
		rawRow("429 ErrorInfo metadata quota_limit_value 0", 429, nil,
			`{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","metadata":{"quota_limit":"GenerateContentInputTokensPerModelPerMinute-FreeTier","quota_limit_value":"0"}}]}}`,
			ClassQuotaExhausted, false, 0),
		// Streaming endpoints answer with an array: [{"error": {…}}].
		rawRow("streaming [{\"error\":…}] with RetryInfo", 429, nil,
			`[{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}]`,
			ClassRateLimited, true, 2*time.Second),
		// "| 500 | INTERNAL | An unexpected error occurred on Google's side."
		{doc: "500 INTERNAL", step: g.ServerError(), class: ClassServerError, retried: true},
		// "| 503 | UNAVAILABLE | The service may be temporarily overloaded or down."
		{doc: "503 UNAVAILABLE", step: g.Overloaded(0), class: ClassOverloaded, retried: true},
		dRow(g, "503 MODEL_CAPACITY_EXHAUSTED", llmretrytest.ErrorReply{Status: 503, Type: "UNAVAILABLE", Code: "MODEL_CAPACITY_EXHAUSTED",
			Message: "No capacity available for model on the server"}, ClassModelOverloaded, true),
		// "| 504 | DEADLINE_EXCEEDED | The service is unable to finish processing within the deadline."
		geminiRow("504 DEADLINE_EXCEEDED", 504, "DEADLINE_EXCEEDED", ClassTimeout, true),
		// go-genai: defaultRetryHTTPStatusCodes = {408, 429, 500, 502, 503, 504}
		geminiRow("408 retried by go-genai", 408, "DEADLINE_EXCEEDED", ClassTimeout, true),
		geminiRow("502 retried by go-genai", 502, "UNAVAILABLE", ClassOverloaded, true),
	}
	runRows(t, geminiPolicy, rows)
	// go-genai: "defaultRetryAttempts = 5 // Including the initial call.", "defaultRetryInitialDelay = 1.0", "defaultRetryMaxDelay = 60.0".
	sdkDefaults(t, geminiPolicy(), 5, time.Second, 60*time.Second)
}
