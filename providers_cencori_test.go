package llmretry

import (
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func cencoriRow(status int, code string, class Class, retried bool) providerRow {
	return providerRow{doc: code + " (" + strconv.Itoa(status) + ")", class: class, retried: retried,
		step: llmretrytest.Dialect("cencori").Error(llmretrytest.ErrorReply{Status: status, Code: code, Message: code})}
}

// TestCencori covers cencori.md's codes, status table and rate-limit headers.
func TestCencori(t *testing.T) {
	t.Parallel()
	rows := []providerRow{
		cencoriRow(401, "INVALID_API_KEY", ClassAuth, false),
		cencoriRow(403, "SECURITY_VIOLATION", ClassContentFiltered, false),
		cencoriRow(429, "RATE_LIMIT_EXCEEDED", ClassRateLimited, true),
		cencoriRow(403, "INSUFFICIENT_CREDITS", ClassQuotaExhausted, false),
		cencoriRow(503, "PROVIDER_ERROR", ClassOverloaded, true),
		cencoriRow(400, "BAD_REQUEST", ClassInvalidRequest, false),
		cencoriRow(404, "NOT_FOUND", ClassNotFound, false),
		cencoriRow(500, "INTERNAL_ERROR", ClassServerError, true),
		// "Retry-After: Seconds to wait before retrying"
		{doc: "429 Retry-After", step: llmretrytest.Dialect("cencori").RateLimit(5), class: ClassRateLimited, retried: true, wait: 5 * time.Second},
	}
	runRows(t, cencoriPolicy, rows)

	// "X-RateLimit-Reset: Unix timestamp when limit resets", without Retry-After.
	tr, srv, ft := setup(t, cencoriPolicy())
	step := llmretrytest.Dialect("cencori").Error(llmretrytest.ErrorReply{Status: 429, Code: "RATE_LIMIT_EXCEEDED", Message: "Too many requests"})
	step.Header.Set("X-RateLimit-Limit", "60")
	step.Header.Set("X-RateLimit-Remaining", "0")
	step.Header.Set("X-RateLimit-Reset", strconv.FormatInt(ft.Now().Unix()+7, 10))
	srv.Enqueue(step)
	if _, _, err := post(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	if w := ft.Waits(); len(w) != 1 || w[0] > 7*time.Second || w[0] <= 6*time.Second {
		t.Errorf("waits = %v, want one wait until the reset, in (6s, 7s]", w)
	}
}
