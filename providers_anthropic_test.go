package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func anthropicRow(doc string, status int, typ string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("anthropic"), doc, llmretrytest.ErrorReply{Status: status, Type: typ}, class, retried)
}

// TestAnthropic covers the Claude API's "HTTP errors" list (platform.claude.com/docs/en/api/errors)
// and anthropic-sdk-go's retry rule (internal/requestconfig: shouldRetry).
func TestAnthropic(t *testing.T) {
	t.Parallel()
	a := llmretrytest.Dialect("anthropic")
	rows := []providerRow{
		anthropicRow("400 - invalid_request_error: There was an issue with the format or content of your request.", 400, "invalid_request_error", ClassInvalidRequest, false),
		// "The API also returns a 400 when usage reaches an organization or workspace spend limit you set"
		dRow(a, "400 spend limit you set", llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error",
			Message: "You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC."}, ClassQuotaExhausted, false),
		{doc: "400 Your credit balance is too low to access the Anthropic API.", step: a.QuotaExhausted(), class: ClassQuotaExhausted},
		anthropicRow("401 - authentication_error: There's an issue with your API key", 401, "authentication_error", ClassAuth, false),
		anthropicRow("402 - billing_error: There's an issue with your billing or payment information.", 402, "billing_error", ClassQuotaExhausted, false),
		anthropicRow("403 - permission_error: Your API key does not have permission to use the specified resource.", 403, "permission_error", ClassPermission, false),
		anthropicRow("404 - not_found_error: The requested resource was not found.", 404, "not_found_error", ClassNotFound, false),
		// "409 - conflict_error: … resolve the conflict, then retry"; the SDK retries 409.
		anthropicRow("409 - conflict_error: The request conflicts with the current state of a resource.", 409, "conflict_error", ClassConflict, true),
		anthropicRow("413 - request_too_large: Request exceeds the maximum allowed number of bytes.", 413, "request_too_large", ClassInvalidRequest, false),
		// "429 - rate_limit_error: Your organization has hit a rate limit"; "wait as long as retry-after says".
		{doc: "429 - rate_limit_error with retry-after", step: a.RateLimit(4), class: ClassRateLimited, retried: true, wait: 4 * time.Second},
		// "429 rate_limit_error, with error.details.error_code set to enforced_spend_limit_reached … Don't retry."
		dRow(a, "429 enforced_spend_limit_reached", llmretrytest.ErrorReply{Status: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached",
			Message: "You have reached your monthly spend cap for your usage tier."}, ClassQuotaExhausted, false),
		anthropicRow("500 - api_error: An unexpected error has occurred internal to Anthropic's systems.", 500, "api_error", ClassServerError, true),
		anthropicRow("504 - timeout_error", 504, "timeout_error", ClassTimeout, true),
		anthropicRow("529 - overloaded_error: The API is temporarily overloaded.", 529, "overloaded_error", ClassOverloaded, true),
		// invalid_request_error "may also be used for other 4XX status codes": the SDK retries 408 by status.
		anthropicRow("408 with invalid_request_error, retried by status", 408, "invalid_request_error", ClassTimeout, true),
		// anthropic-sdk-go: header "Retry-After-Ms" before "Retry-After"; `x-should-retry` obeyed.
		rawRow("retry-after-ms", 529, http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"5"}, "Request-Id": {"req_011CSHoEeqs5C35K2UUqR7Fy"}},
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`, ClassOverloaded, true, 250*time.Millisecond),
		rawRow("x-should-retry: false", 429, http.Header{"X-Should-Retry": {"false"}},
			`{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`, ClassRateLimited, false, 0),
	}
	runRows(t, anthropicPolicy, rows)
	// anthropic-sdk-go: "MaxRetries: 2"; "maxDelay := 8 * time.Second"; "0.5 * float64(time.Second) * math.Pow(2, …)".
	sdkDefaults(t, anthropicPolicy(), 3, 500*time.Millisecond, 8*time.Second)
}
