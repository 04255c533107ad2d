package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

func xaiRow(doc string, status int, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("xai"), doc, llmretrytest.ErrorReply{Status: status}, class, retried)
}

// TestXAI covers xAI's "Debugging Errors" status table (docs.x.ai/docs/key-information/debugging).
func TestXAI(t *testing.T) {
	t.Parallel()
	x := llmretrytest.Dialect("xai")
	rows := []providerRow{
		// "400 Bad Request: A POST method request body specified an invalid argument …"
		xaiRow("400 Bad Request: invalid argument", 400, ClassInvalidRequest, false),
		// "… - An incorrect API key is supplied." (also 400)
		dRow(x, "400 Bad Request: An incorrect API key is supplied.", llmretrytest.ErrorReply{Status: 400,
			Message: "Incorrect API key provided: xa***Y1. You can obtain an API key from https://console.x.ai."}, ClassAuth, false),
		// "401 Unauthorized: No authorization header or an invalid authorization token is provided."
		xaiRow("401 Unauthorized", 401, ClassAuth, false),
		// "403 Forbidden: Your API key/team doesn't have permission to perform the action. Your API key/team is blocked."
		xaiRow("403 Forbidden", 403, ClassPermission, false),
		// A 403 for a team out of credits or at its spending limit.
		{doc: "403 used all available credits or reached its monthly spending limit", step: x.QuotaExhausted(), class: ClassQuotaExhausted},
		// "404 Not Found: A model specified in a POST method request body is not found."
		xaiRow("404 Not Found", 404, ClassNotFound, false),
		// "405 Method Not Allowed"
		xaiRow("405 Method Not Allowed", 405, ClassInvalidRequest, false),
		// "415 Unsupported Media Type: An empty request body in POST requests"
		xaiRow("415 Unsupported Media Type", 415, ClassInvalidRequest, false),
		// "422 Unprocessable Entity: A field in the POST request body has an invalid format."
		xaiRow("422 Unprocessable Entity", 422, ClassInvalidRequest, false),
		// "429 Too Many Requests: You are sending requests too frequently and have reached the rate limit."
		{doc: "429 Too Many Requests", step: x.RateLimit(1), class: ClassRateLimited, retried: true},
		{doc: "500", step: x.ServerError(), class: ClassServerError, retried: true},
		{doc: "503", step: x.Overloaded(0), class: ClassOverloaded, retried: true},
	}
	runRows(t, xAIPolicy, rows)
}
