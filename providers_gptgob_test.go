package llmretry

import (
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func gobRow(doc string, status int, typ, code string, class Class, retried bool) providerRow {
	return providerRow{doc: doc, step: llmretrytest.Dialect("gptgob").Error(llmretrytest.ErrorReply{Status: status, Type: typ, Code: code, Message: doc}),
		class: class, retried: retried, requestID: true}
}

// TestGPTGob covers every row of both tables in gptgob.md.
func TestGPTGob(t *testing.T) {
	t.Parallel()
	rows := []providerRow{
		// "| HTTP | Type | Retryable | Description |"
		gobRow("400 invalid_request_error no", 400, "invalid_request_error", "", InvalidRequest, false),
		gobRow("401 authentication_error no", 401, "authentication_error", "", Auth, false),
		gobRow("403 permission_error no", 403, "permission_error", "", Permission, false),
		gobRow("404 not_found_error no", 404, "not_found_error", "", NotFound, false),
		gobRow("409 conflict_error no", 409, "conflict_error", "", Conflict, false),
		gobRow("422 validation_error no", 422, "validation_error", "", InvalidRequest, false),
		gobRow("429 rate_limit_exceeded yes", 429, "rate_limit_exceeded", "", RateLimited, true),
		gobRow("429 quota_exceeded no", 429, "quota_exceeded", "", QuotaExhausted, false),
		gobRow("500 server_error yes", 500, "server_error", "", ServerError, true),
		gobRow("502 upstream_error yes", 502, "upstream_error", "", ServerError, true),
		gobRow("503 service_unavailable yes", 503, "service_unavailable", "", Overloaded, true),
		gobRow("503 horde_unavailable yes", 503, "horde_unavailable", "", ModelOverloaded, true),
		gobRow("504 request_timeout yes", 504, "request_timeout", "", Timeout, true),
		// "| Code | Type | Notes |"
		gobRow("invalid_api_key authentication_error", 401, "authentication_error", "invalid_api_key", Auth, false),
		gobRow("expired_api_key authentication_error", 401, "authentication_error", "expired_api_key", Auth, false),
		gobRow("revoked_api_key authentication_error", 401, "authentication_error", "revoked_api_key", Auth, false),
		gobRow("wrong_password_to_cave authentication_error", 401, "authentication_error", "wrong_password_to_cave", Auth, false),
		gobRow("scope_required permission_error", 403, "permission_error", "scope_required", Permission, false),
		gobRow("model_not_found not_found_error", 404, "not_found_error", "model_not_found", NotFound, false),
		gobRow("context_length_exceeded invalid_request_error", 400, "invalid_request_error", "context_length_exceeded", ContextLength, false),
		gobRow("invalid_mining_depth invalid_request_error", 400, "invalid_request_error", "invalid_mining_depth", InvalidRequest, false),
		gobRow("too_many_tokens rate_limit_exceeded", 429, "rate_limit_exceeded", "too_many_tokens", RateLimited, true),
		gobRow("no_treasure_in_hoard quota_exceeded", 429, "quota_exceeded", "no_treasure_in_hoard", QuotaExhausted, false),
		gobRow("cave_collapsed server_error", 500, "server_error", "cave_collapsed", ServerError, true),
		gobRow("horde_unavailable service_unavailable", 503, "service_unavailable", "horde_unavailable", ModelOverloaded, true),
		gobRow("goblin_distracted server_error", 500, "server_error", "goblin_distracted", ServerError, true),
		gobRow("safety_filter_triggered invalid_request_error", 400, "invalid_request_error", "safety_filter_triggered", ContentFiltered, false),
		// "gremlin_in_the_pipes | rate_limit_exceeded | RPM limit hit. Includes retry_after"
		{doc: "gremlin_in_the_pipes rate_limit_exceeded retry_after 12", step: llmretrytest.Dialect("gptgob").RateLimit(12),
			class: RateLimited, retried: true, wait: 12 * time.Second, requestID: true},
	}
	runRows(t, GPTGob, rows)

	// "The official SDKs do this automatically with sensible defaults (max_attempts=3, base delay 1s)."
	if p := GPTGob(); p.maxRetries()+1 != 3 || p.BaseDelay != time.Second {
		t.Errorf("GPTGob: %d attempts, base %v; want 3 attempts, base 1s", p.maxRetries()+1, p.BaseDelay)
	}
}
