package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestOpenAI covers OpenAI's error-codes guide (platform.openai.com/docs/guides/error-codes)
// and openai-go's retry rule (internal/requestconfig: shouldRetry, retryDelay).
func TestOpenAI(t *testing.T) {
	t.Parallel()
	o := llmretrytest.Dialect("openai")
	rows := []providerRow{
		// "401 - Invalid Authentication" / "401 - Incorrect API key provided"
		dRow(o, "401 Incorrect API key provided", llmretrytest.ErrorReply{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key",
			Message: "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys."}, ClassAuth, false),
		// "401 - You must be a member of an organization to use the API": no code, the status decides.
		dRow(o, "401 You must be a member of an organization to use the API", llmretrytest.ErrorReply{Status: 401, Type: "invalid_request_error"}, ClassAuth, false),
		// "403 - Country, region, or territory not supported"
		dRow(o, "403 Country, region, or territory not supported", llmretrytest.ErrorReply{Status: 403, Type: "request_forbidden",
			Code: "unsupported_country_region_territory"}, ClassPermission, false),
		// "429 - Rate limit reached for requests"
		{doc: "429 Rate limit reached for requests", step: o.RateLimit(2), class: ClassRateLimited, retried: true, wait: 2 * time.Second},
		// "429 - You exceeded your current quota, please check your plan and billing details"
		{doc: "429 You exceeded your current quota", step: o.QuotaExhausted(), class: ClassQuotaExhausted},
		// "500 - The server had an error while processing your request"
		{doc: "500 The server had an error while processing your request", step: o.ServerError(), class: ClassServerError, retried: true},
		// "503 - The engine is currently overloaded, please try again later"
		dRow(o, "503 The engine is currently overloaded, please try again later", llmretrytest.ErrorReply{Status: 503, Type: "server_error"}, ClassOverloaded, true),
		// "503 - Slow Down"
		dRow(o, "503 Slow Down", llmretrytest.ErrorReply{Status: 503, Type: "server_error", Code: "slow_down"}, ClassOverloaded, true),
		// A request larger than the per-minute limit never fits, however long one waits.
		dRow(o, "429 Request too large … Limit 30000, Requested 50000", llmretrytest.ErrorReply{Status: 429, Type: "tokens", Code: "rate_limit_exceeded",
			Message: "Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 50000. " +
				"The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more."},
			ClassInvalidRequest, false),
		dRow(o, "400 context_length_exceeded", llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Param: "messages"}, ClassContextLength, false),
		dRow(o, "404 model_not_found", llmretrytest.ErrorReply{Status: 404, Type: "invalid_request_error", Code: "model_not_found"}, ClassNotFound, false),
		// openai-go: "res.StatusCode == http.StatusRequestTimeout || res.StatusCode == http.StatusConflict || … TooManyRequests || … >= 500"
		dRow(o, "409 retried by openai-go", llmretrytest.ErrorReply{Status: 409, Type: "invalid_request_error"}, ClassConflict, true),
		// The status rule decides a 409 whose code only restates it (issue 20, finding 6).
		rawRow("409 {code: conflict} retried by openai-go", 409, nil,
			`{"error":{"message":"conflict","type":"conflict","param":null,"code":"conflict"}}`, ClassConflict, true, 0),
		dRow(o, "408 retried by openai-go", llmretrytest.ErrorReply{Status: 408, Type: "timeout"}, ClassTimeout, true),
		// "the headers are listed in order of preference": Retry-After-Ms, then Retry-After.
		rawRow("Retry-After-Ms before Retry-After", 429, http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"3"}},
			`{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, ClassRateLimited, true, 1500*time.Millisecond),
		// `if res.Header.Get("x-should-retry") == "false"`
		rawRow("x-should-retry: false", 500, http.Header{"X-Should-Retry": {"false"}},
			`{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`, ClassServerError, false, 0),
	}
	runRows(t, openAIPolicy, rows)
	// openai-go: "MaxRetries: 2"; "backoff := 0.5 * float64(time.Second) * math.Pow(2, …)"; "DefaultMaxServerDelay = 8 * time.Second".
	sdkDefaults(t, openAIPolicy(), 3, 500*time.Millisecond, 8*time.Second)
}
