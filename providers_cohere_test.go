package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func cohereRow(doc string, status int, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("cohere"), doc, llmretrytest.ErrorReply{Status: status}, class, retried)
}

// TestCohere covers Cohere's errors page (docs.cohere.com/reference/errors:
// "With a non-2xx response code, the response will be an error object in the
// following shape: { "message": string }") and its rate limits
// (docs.cohere.com/docs/rate-limits, "Different Types of API Keys and Rate
// Limits"). The page's sections are 400, 401, 402, 404, 429, 499 and 500;
// the copy read for this test showed the 400 section's example messages
// only, so the other rows' messages are placeholders and their status
// decides. The page gives no wait hint: a Retry-After is honoured where
// sent, backoff used where not.
func TestCohere(t *testing.T) {
	t.Parallel()
	co := llmretrytest.Dialect("cohere")
	rows := []providerRow{
		// "400 - Bad Request: 400 responses are sent when the body of the request is not valid."
		cohereRow("invalid request: list of documents must not be empty", 400, ClassInvalidRequest, false),
		// "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt, or enabling prompt truncating."
		cohereRow("too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292.", 400, ClassInvalidRequest, false),
		// 401 (message as Cohere's SDK users report it: "invalid api token")
		cohereRow("invalid api token", 401, ClassAuth, false),
		// 402 Payment Required: billing, not retried.
		cohereRow("Please add or update your payment method", 402, ClassQuotaExhausted, false),
		// 404 Not Found
		cohereRow("model 'command-z' not found, make sure the correct model ID was used", 404, ClassNotFound, false),
		// rate-limits: "Chat … Trial rate limit 20 req / min, Production rate limit 500 req / min":
		// a per-minute 429 is retried, after Retry-After when sent.
		{doc: "429 past the per minute request limit, Retry-After: 3", step: co.RateLimit(3), class: ClassRateLimited, retried: true, wait: 3 * time.Second},
		// The per-minute 429s as Cohere words them (quoted by SDK users):
		cohereRow("You are using a Trial key, which is limited to 40 API calls / minute.", 429, ClassRateLimited, true),
		cohereRow("trial token rate limit exceeded, limit is 100000 tokens per minute", 429, ClassRateLimited, true),
		// "Trial keys (and prod keys on newer Chat model variants) are limited to 1,000 API calls a month."
		// (older page: "In addition, all endpoints are limited to 1,000 calls per month with a trial key.")
		{doc: "429 trial key, 1000 API calls / month", step: co.QuotaExhausted(), class: ClassQuotaExhausted},
		cohereRow("You are using a Trial key, which is limited to 1,000 API calls a month.", 429, ClassQuotaExhausted, false),
		// 499: the request was cancelled by the caller; final.
		cohereRow("request cancelled", 499, ClassCanceled, false),
		// "Codes in the 5xx range indicate an error with Cohere's servers (these are rare)."
		cohereRow("internal server error", 500, ClassServerError, true),
		cohereRow("service unavailable", 503, ClassOverloaded, true),
		cohereRow("gateway timeout", 504, ClassTimeout, true),
		// A 429 with a Retry-After past MaxWait is returned at once, whatever its window.
		rawRow("429 monthly, Retry-After past MaxWait", 429, http.Header{"Retry-After": {"86400"}},
			`{"message":"You are using a Trial key, which is limited to 1000 API calls / month."}`, ClassRateLimited, false, 0),
	}
	runRows(t, coherePolicy, rows)
	sdkDefaults(t, coherePolicy(), 3, defaultBaseDelay, defaultMaxDelay)
}
