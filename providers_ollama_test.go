package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

func ollamaRow(doc string, status int, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("ollama"), doc, llmretrytest.ErrorReply{Status: status}, class, retried)
}

// TestOllama covers Ollama's "Errors" page (docs.ollama.com/api/errors):
// "Errors are returned in the application/json format with the following
// structure, with the error message in the error property: { "error": "the
// model failed to generate a response" }", and its status codes. The body
// has no type or code, so the status decides.
func TestOllama(t *testing.T) {
	t.Parallel()
	o := llmretrytest.Dialect("ollama")
	rows := []providerRow{
		// "400: Bad Request (missing parameters, invalid JSON, etc.)"
		ollamaRow("invalid character '}' looking for beginning of value", 400, ClassInvalidRequest, false),
		// "404: Not Found (model doesn't exist, etc.)"
		ollamaRow("model 'llama3.2' not found", 404, ClassNotFound, false),
		// "429: Too Many Requests (e.g. when a rate limit is exceeded)"
		{doc: "429 Too Many Requests, Retry-After: 1", step: o.RateLimit(1), class: ClassRateLimited, retried: true},
		// The cloud's usage limits ("hourly and weekly"; the message's wording is
		// not documented): a 429 naming a week with no wait is not retried.
		{doc: "429 weekly usage limit", step: o.QuotaExhausted(), class: ClassQuotaExhausted},
		// "500: Internal Server Error"
		ollamaRow("the model failed to generate a response", 500, ClassServerError, true),
		// "502: Bad Gateway (e.g. when a cloud model cannot be reached)"
		ollamaRow("cloud model unreachable", 502, ClassServerError, true),
		// The page does not list 503; the server's scheduler (server/sched.go,
		// ErrMaxQueue) answers it when OLLAMA_MAX_QUEUE requests are pending.
		{doc: "503 server busy, maximum pending requests exceeded", step: o.Overloaded(0), class: ClassOverloaded, retried: true},
		// 401 for a remote server that wants a signed-in client: {"error":"unauthorized","signin_url":"…"}.
		rawRow("401 unauthorized, signin_url", 401, nil, `{"error":"unauthorized","signin_url":"https://ollama.com/connect?name=host&key=k"}`, ClassAuth, false, 0),
	}
	runRows(t, ollamaPolicy, rows)
	sdkDefaults(t, ollamaPolicy(), 3, defaultBaseDelay, defaultMaxDelay)
}
