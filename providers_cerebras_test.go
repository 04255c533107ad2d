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
		cerebrasRow(400, ClassInvalidRequest, false), // BadRequestError
		cerebrasRow(401, ClassAuth, false),           // AuthenticationError
		cerebrasRow(402, ClassQuotaExhausted, false), // PaymentRequired
		cerebrasRow(403, ClassPermission, false),     // PermissionDeniedError
		cerebrasRow(404, ClassNotFound, false),       // NotFoundError
		cerebrasRow(408, ClassTimeout, true),         // 408 Request Timeout
		cerebrasRow(422, ClassInvalidRequest, false), // UnprocessableEntityError
		cerebrasRow(429, ClassRateLimited, true),     // RateLimitError
		cerebrasRow(500, ClassServerError, true),     // InternalServerError
		cerebrasRow(501, ClassServerError, true),     // >= 500
		cerebrasRow(502, ClassServerError, true),
		cerebrasRow(503, ClassOverloaded, true), // ServiceUnavailable
		{doc: "N/A APIConnectionError", step: llmretrytest.Step{Reset: true}, class: ClassConnection, retried: true},
		{doc: "429 with Retry-After", step: llmretrytest.Dialect("cerebras").RateLimit(4), class: ClassRateLimited, retried: true, wait: 4 * time.Second},
		// Its real 429 bodies name the limit (inference-docs.cerebras.ai/support/rate-limits: "Requests per minute/hour/day",
		// "Tokens per minute/hour/day"):
		// {"message":"Tokens per minute limit exceeded - too many tokens processed.","type":"too_many_requests_error","param":"quota","code":"token_quota_exceeded"}
		dRow(llmretrytest.Dialect("cerebras"), "429 token_quota_exceeded", llmretrytest.ErrorReply{Status: 429, Type: "too_many_requests_error", Code: "token_quota_exceeded",
			Param: "quota", Message: "Tokens per minute limit exceeded - too many tokens processed."}, ClassRateLimited, true),
		// A daily limit with no wait given is not back in seconds.
		dRow(llmretrytest.Dialect("cerebras"), "429 Requests per day limit exceeded", llmretrytest.ErrorReply{Status: 429, Type: "too_many_requests_error", Code: "request_quota_exceeded",
			Param: "quota", Message: "Requests per day limit exceeded - too many requests sent."}, ClassQuotaExhausted, false),
	}
	runRows(t, cerebrasPolicy, rows)
	// "By default, certain errors are automatically retried 2 times"; "Requests time out after 1 minute by default".
	if p := cerebrasPolicy(); p.maxRetries() != 2 || p.AttemptTimeout != time.Minute {
		t.Errorf("Cerebras: %d retries, attempt timeout %v; want 2 and 1m", p.maxRetries(), p.AttemptTimeout)
	}
}
