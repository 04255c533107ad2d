package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

func togetherRow(doc string, status int, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("together"), doc, llmretrytest.ErrorReply{Status: status, Type: "invalid_request_error"}, class, retried)
}

// TestTogether covers Together AI's "Error codes" (docs.together.ai/docs/error-codes)
// and "Rate limits" (docs.together.ai/docs/rate-limits).
func TestTogether(t *testing.T) {
	t.Parallel()
	to := llmretrytest.Dialect("together")
	rows := []providerRow{
		togetherRow("400 - Invalid Request: Misconfigured request", 400, ClassInvalidRequest, false),
		togetherRow("401 - Authentication Error: Missing or Invalid API Key", 401, ClassAuth, false),
		// "402 | Payment required | The account linked with the API key has reached it's spending limit/run out of credits"
		{doc: "402 - Payment required", step: to.QuotaExhausted(), class: ClassQuotaExhausted},
		// "403 - Bad Request: Input token count + max_tokens parameter must be less than the context length of the model being queried."
		togetherRow("403 - Bad Request: over the context length", 403, ClassContextLength, false),
		togetherRow("404 - Not Found: Invalid Endpoint URL or model name", 404, ClassNotFound, false),
		// "Requests above your dynamic rate return 429 Too Many Requests with … dynamic_request_limited … dynamic_token_limited"
		{doc: "429 dynamic_request_limited", step: to.RateLimit(1), class: ClassRateLimited, retried: true},
		dRow(to, "429 dynamic_token_limited", llmretrytest.ErrorReply{Status: 429, Type: "dynamic_token_limited"}, ClassRateLimited, true),
		togetherRow("500 - Server error: Please try again.", 500, ClassServerError, true),
		// "503 - Engine Overloaded: Our servers are seeing high amounts of traffic. Please try again after a brief wait."
		{doc: "503 - Engine Overloaded", step: to.Overloaded(0), class: ClassOverloaded, retried: true},
		togetherRow("504 - Timeout: Please try again after a brief wait.", 504, ClassTimeout, true),
		togetherRow("520 - Server Error: Please try again after a brief wait.", 520, ClassServerError, true),
		togetherRow("524 - Timeout: Cloudflare … the server took too long to respond.", 524, ClassTimeout, true),
		togetherRow("529 - Server Error: Please try again after a wait.", 529, ClassServerError, true),
	}
	runRows(t, togetherPolicy, rows)
}
