package llmretry

import (
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func sambaRow(status int, code, param string, class Class, retried bool) providerRow {
	typ := "invalid_request_error"
	return providerRow{doc: strconv.Itoa(status) + " " + code, class: class, retried: retried,
		step: llmretrytest.Dialect("sambanova").Error(llmretrytest.ErrorReply{Status: status, Type: typ, Code: code, Param: param, Message: code})}
}

// TestSambaNova covers every code in sambanova.md.
func TestSambaNova(t *testing.T) {
	t.Parallel()
	rows := []providerRow{
		sambaRow(400, "context_length_exceeded", "", ClassContextLength, false),
		sambaRow(400, "invalid_type", "temperature", ClassInvalidRequest, false),
		sambaRow(400, "decimal_above_max_value", "top_p", ClassInvalidRequest, false),
		sambaRow(400, "decimal_below_min_value", "top_p", ClassInvalidRequest, false),
		sambaRow(400, "integer_above_max_value", "max_tokens", ClassInvalidRequest, false),
		sambaRow(400, "model_not_found", "model", ClassNotFound, false),
		sambaRow(401, "invalid_authentication", "", ClassAuth, false),
		sambaRow(408, "request_timeout", "", ClassTimeout, true),
		// "insufficient_quota: Access to the SambaNova Cloud API may be rate limited depending on your subscription tier."
		sambaRow(429, "insufficient_quota", "", ClassRateLimited, true),
		{doc: "429 insufficient_quota with Retry-After", step: llmretrytest.Dialect("sambanova").RateLimit(2), class: ClassRateLimited, retried: true, wait: 2 * time.Second},
	}
	runRows(t, sambaNovaPolicy, rows)

	// "the property (if applicable) causing the error": param reaches the APIError.
	srv := llmretrytest.Start(t)
	srv.Enqueue(sambaRow(400, "decimal_above_max_value", "top_p", ClassInvalidRequest, false).step)
	tr := &Transport{Policy: sambaNovaPolicy(), ReturnErrors: true}
	_, _, err := post(t, tr, srv.URL)
	if e, ok := err.(*APIError); !ok || e.Param != "top_p" || e.Class != ClassInvalidRequest {
		t.Errorf("err = %#v, want an InvalidRequest APIError with Param top_p", err)
	}
}
