package llmretry

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func cerebrasRow(status int, class Class, retried bool) providerRow {
	return providerRow{doc: strconv.Itoa(status) + " " + class.String(), class: class, retried: retried,
		step: llmretrytest.Dialect("cerebras").Error(llmretrytest.ErrorReply{Status: status, Type: "error", Message: http.StatusText(status)})}
}

// TestCerebras covers cerebras.md's status table and its retry rule:
// "Connection errors, 408 Request Timeout, 429 Rate Limit, >= 500 Internal errors".
func TestCerebras(t *testing.T) {
	t.Parallel()
	rows := []providerRow{
		cerebrasRow(400, InvalidRequest, false), // BadRequestError
		cerebrasRow(401, Auth, false),           // AuthenticationError
		cerebrasRow(402, QuotaExhausted, false), // PaymentRequired
		cerebrasRow(403, Permission, false),     // PermissionDeniedError
		cerebrasRow(404, NotFound, false),       // NotFoundError
		cerebrasRow(408, Timeout, true),         // 408 Request Timeout
		cerebrasRow(422, InvalidRequest, false), // UnprocessableEntityError
		cerebrasRow(429, RateLimited, true),     // RateLimitError
		cerebrasRow(500, ServerError, true),     // InternalServerError
		cerebrasRow(501, ServerError, true),     // >= 500
		cerebrasRow(502, ServerError, true),
		cerebrasRow(503, Overloaded, true), // ServiceUnavailable
		{doc: "N/A APIConnectionError", step: llmretrytest.Step{Reset: true}, class: Connection, retried: true},
		{doc: "429 with Retry-After", step: llmretrytest.Dialect("cerebras").RateLimit(4), class: RateLimited, retried: true, wait: 4 * time.Second},
		// Its real 429 bodies name the limit (inference-docs.cerebras.ai/support/rate-limits: "Requests per minute/hour/day",
		// "Tokens per minute/hour/day"):
		// {"message":"Tokens per minute limit exceeded - too many tokens processed.","type":"too_many_requests_error","param":"quota","code":"token_quota_exceeded"}
		dRow(llmretrytest.Dialect("cerebras"), "429 token_quota_exceeded", llmretrytest.ErrorReply{Status: 429, Type: "too_many_requests_error", Code: "token_quota_exceeded",
			Param: "quota", Message: "Tokens per minute limit exceeded - too many tokens processed."}, RateLimited, true),
		// A daily limit with no wait given is not back in seconds.
		dRow(llmretrytest.Dialect("cerebras"), "429 Requests per day limit exceeded", llmretrytest.ErrorReply{Status: 429, Type: "too_many_requests_error", Code: "request_quota_exceeded",
			Param: "quota", Message: "Requests per day limit exceeded - too many requests sent."}, QuotaExhausted, false),
	}
	runRows(t, Cerebras, rows)
	// "By default, certain errors are automatically retried 2 times"; "Requests time out after 1 minute by default".
	if p := Cerebras(); p.maxRetries() != 2 || p.AttemptTimeout != time.Minute {
		t.Errorf("Cerebras: %d retries, attempt timeout %v; want 2 and 1m", p.maxRetries(), p.AttemptTimeout)
	}
}
