package llmretry

import (
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestSolidRusT covers solidrust.md's examples and status table.
func TestSolidRusT(t *testing.T) {
	t.Parallel()
	sr := func(status int, typ, code string, class Class, retried bool) providerRow {
		return providerRow{doc: strconv.Itoa(status) + " " + typ + "/" + code, class: class, retried: retried,
			step: llmretrytest.Dialect("solidrust").Error(llmretrytest.ErrorReply{Status: status, Type: typ, Code: code, Message: code})}
	}
	rows := []providerRow{
		sr(401, "authentication_error", "invalid_api_key", ClassAuth, false),
		sr(400, "invalid_request_error", "invalid_parameter", ClassInvalidRequest, false),
		sr(403, "permission_error", "forbidden", ClassPermission, false),
		sr(404, "invalid_request_error", "not_found", ClassNotFound, false),
		sr(500, "server_error", "internal_error", ClassServerError, true),
		sr(503, "service_unavailable", "service_unavailable", ClassOverloaded, true),
		// "Rate limit exceeded. Please retry after 60 seconds." — the wait is only in the message.
		{doc: "429 rate_limit_exceeded retry after 60 seconds", step: llmretrytest.Dialect("solidrust").RateLimit(60),
			class: ClassRateLimited, retried: true, wait: 60 * time.Second},
	}
	runRows(t, solidRusTPolicy, rows)
}
