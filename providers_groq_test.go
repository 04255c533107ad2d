package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func groqRow(doc string, status int, typ, code string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("groq"), doc, llmretrytest.ErrorReply{Status: status, Type: typ, Code: code}, class, retried)
}

// TestGroq covers GroqCloud's "API Error Codes and Responses" (console.groq.com/docs/errors)
// and its rate-limit answers (console.groq.com/docs/rate-limits).
func TestGroq(t *testing.T) {
	t.Parallel()
	g := llmretrytest.Dialect("groq")
	rows := []providerRow{
		// "400 Bad Request: The server could not understand the request due to invalid syntax."
		groqRow("400 Bad Request", 400, "invalid_request_error", "", ClassInvalidRequest, false),
		// "401 Unauthorized: … lacks valid authentication credentials"
		groqRow("401 Unauthorized", 401, "invalid_request_error", "invalid_api_key", ClassAuth, false),
		// "403 Forbidden: The request is not allowed due to permission restrictions."
		groqRow("403 Forbidden", 403, "permission_denied", "", ClassPermission, false),
		// "404 Not Found: The requested resource could not be found."
		groqRow("404 Not Found", 404, "invalid_request_error", "model_not_found", ClassNotFound, false),
		// "413 Request Entity Too Large: The request body is too large. Please reduce the size of the request body."
		groqRow("413 Request Entity Too Large", 413, "invalid_request_error", "", ClassInvalidRequest, false),
		// "422 Unprocessable Entity: The request was well-formed, but could not be followed due to semantic errors"
		groqRow("422 Unprocessable Entity", 422, "invalid_request_error", "", ClassInvalidRequest, false),
		// "424 Failed Dependency: The request failed because a dependent request failed. This may occur when using Remote MCP"
		groqRow("424 Failed Dependency", 424, "invalid_request_error", "", ClassInvalidRequest, false),
		// "429 Too Many Requests: Too many requests were sent in a given timeframe." with retry-after.
		{doc: "429 Too Many Requests, retry-after", step: g.RateLimit(2), class: ClassRateLimited, retried: true, wait: 2 * time.Second, requestID: true},
		// "498 Custom Status Code: Flex Tier Capacity Exceeded" — flex requests "fail quickly with status 498 and error capacity_exceeded".
		{doc: "498 Flex Tier Capacity Exceeded", step: g.Overloaded(0), class: ClassOverloaded, retried: true},
		// "499 Request Cancelled: The request was cancelled by the caller."
		groqRow("499 Request Cancelled", 499, "", "", ClassCanceled, false),
		// "500 Internal Server Error", "502 Bad Gateway", "503 Service Unavailable"
		groqRow("500 Internal Server Error", 500, "internal_server_error", "", ClassServerError, true),
		groqRow("502 Bad Gateway", 502, "", "", ClassServerError, true),
		groqRow("503 Service Unavailable", 503, "internal_server_error", "service_unavailable", ClassOverloaded, true),
		// "Request too large for model … on tokens per minute (TPM): Limit 12000, Requested 28563, please reduce your message size"
		{doc: "413 Request too large … (TPM)", step: g.QuotaExhausted(), class: ClassInvalidRequest},
		// The same, sent as a 429 rate_limit_exceeded: waiting will never fit it.
		dRow(g, "429 rate_limit_exceeded, Requested > Limit", llmretrytest.ErrorReply{Status: 429, Type: "tokens", Code: "rate_limit_exceeded", RetryAfter: 7,
			Message: "Rate limit reached for model `llama-3.1-8b-instant` in organization `org_01abc` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Used 0, Requested 9000. Please try again in 7s."},
			ClassInvalidRequest, false),
		// The wait only in the message: "Please try again in 2.5s."
		rawRow("429 try again in 2.5s (message only)", 429, nil,
			`{"error":{"message":"Rate limit reached for model `+"`llama-3.3-70b-versatile`"+` in organization `+"`org_01abc`"+` service tier `+"`on_demand`"+` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2.5s.","type":"requests","code":"rate_limit_exceeded"}}`,
			ClassRateLimited, true, 2500*time.Millisecond),
		// A daily token limit whose wait ("try again in 7m12.5s") is past MaxWait: returned at once.
		rawRow("429 tokens per day (TPD), retry-after 433", 429, http.Header{"Retry-After": {"433"}},
			`{"error":{"message":"Rate limit reached for model `+"`llama-3.3-70b-versatile`"+` in organization `+"`org_01abc`"+` service tier `+"`on_demand`"+` on tokens per day (TPD): Limit 100000, Used 99870, Requested 500. Please try again in 7m12.5s.","type":"tokens","code":"rate_limit_exceeded"}}`,
			ClassRateLimited, false, 0),
	}
	runRows(t, groqPolicy, rows)
	sdkDefaults(t, groqPolicy(), 3, defaultBaseDelay, defaultMaxDelay)
}
