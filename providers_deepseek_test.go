package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestDeepSeek covers DeepSeek's "Error Codes" (api-docs.deepseek.com/quick_start/error_codes).
func TestDeepSeek(t *testing.T) {
	t.Parallel()
	d := llmretrytest.Dialect("deepseek")
	ds := func(doc string, status int, class Class, retried bool) providerRow {
		return dRow(d, doc, llmretrytest.ErrorReply{Status: status, Type: "invalid_request_error", Code: "invalid_request_error"}, class, retried)
	}
	rows := []providerRow{
		ds("400 - Invalid Format: Invalid request body format.", 400, ClassInvalidRequest, false),
		// DeepSeek's own 401 body: type authentication_error, code invalid_request_error.
		dRow(d, "401 - Authentication Fails: Authentication fails due to the wrong API key.", llmretrytest.ErrorReply{Status: 401, Type: "authentication_error",
			Code: "invalid_request_error", Message: "Authentication Fails (no such user)"}, ClassAuth, false),
		// "402 - Insufficient Balance: You have run out of balance." — code "invalid_request_error" says nothing.
		{doc: "402 - Insufficient Balance", step: d.QuotaExhausted(), class: ClassQuotaExhausted},
		ds("422 - Invalid Parameters: Your request contains invalid parameters.", 422, ClassInvalidRequest, false),
		{doc: "429 - Rate Limit Reached: You are sending requests too quickly.", step: d.RateLimit(1), class: ClassRateLimited, retried: true},
		// "500 - Server Error: … Please retry your request after a brief wait"
		{doc: "500 - Server Error", step: d.ServerError(), class: ClassServerError, retried: true},
		// "503 - Server Overloaded: The server is overloaded due to high traffic. … Please retry your request after a brief wait."
		{doc: "503 - Server Overloaded", step: d.Overloaded(0), class: ClassOverloaded, retried: true},
	}
	runRows(t, deepSeekPolicy, rows)
}
