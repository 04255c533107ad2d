package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

func fireworksRow(doc string, status int, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("fireworks"), doc, llmretrytest.ErrorReply{Status: status, Type: "invalid_request_error"}, class, retried)
}

// TestFireworks covers Fireworks AI's "Common error codes" (docs.fireworks.ai/guides/inference-error-codes).
func TestFireworks(t *testing.T) {
	t.Parallel()
	f := llmretrytest.Dialect("fireworks")
	rows := []providerRow{
		fireworksRow("400 Bad Request: Invalid input or malformed request.", 400, ClassInvalidRequest, false),
		fireworksRow("401 Unauthorized: Invalid API key or insufficient permissions.", 401, ClassAuth, false),
		// "402 Payment Required: Account is not on a paid plan or has exceeded usage limits."
		{doc: "402 Payment Required", step: f.QuotaExhausted(), class: ClassQuotaExhausted},
		fireworksRow("403 Forbidden: Authentication issues.", 403, ClassPermission, false),
		fireworksRow("404 Not Found: The API endpoint path doesn't exist, the model doesn't exist …", 404, ClassNotFound, false),
		fireworksRow("405 Method Not Allowed", 405, ClassInvalidRequest, false),
		// "408 Request Timeout: … Retry the request after a brief wait."
		fireworksRow("408 Request Timeout", 408, ClassTimeout, true),
		// "412 Precondition Failed: Account is suspended or there's an issue with account status."
		fireworksRow("412 Precondition Failed", 412, ClassPermission, false),
		fireworksRow("413 Payload Too Large: Input data exceeds the allowed size limit.", 413, ClassInvalidRequest, false),
		// "429 Too Many Requests: Rate limited (serverless) or deployment capacity exceeded (dedicated/on-demand)."
		{doc: "429 Too Many Requests", step: f.RateLimit(1), class: ClassRateLimited, retried: true},
		// The table's server rows (500 and after) are retried like any server error.
		{doc: "500 Internal Server Error", step: f.ServerError(), class: ClassServerError, retried: true},
		{doc: "503 Service Unavailable", step: f.Overloaded(0), class: ClassOverloaded, retried: true},
	}
	runRows(t, fireworksPolicy, rows)
}
