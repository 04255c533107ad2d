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
		gobRow("400 invalid_request_error no", 400, "invalid_request_error", "", ClassInvalidRequest, false),
		gobRow("401 authentication_error no", 401, "authentication_error", "", ClassAuth, false),
		gobRow("403 permission_error no", 403, "permission_error", "", ClassPermission, false),
		gobRow("404 not_found_error no", 404, "not_found_error", "", ClassNotFound, false),
		// GPT-Gob's documentation (/work/shared/providers/gptgob.md) is the
		// source of truth: "| 409 | conflict_error | no |", though the
		// generic policy retries 409 as openai-go does.
		gobRow("409 conflict_error no", 409, "conflict_error", "", ClassConflict, false),
		gobRow("422 validation_error no", 422, "validation_error", "", ClassInvalidRequest, false),
		gobRow("429 rate_limit_exceeded yes", 429, "rate_limit_exceeded", "", ClassRateLimited, true),
		gobRow("429 quota_exceeded no", 429, "quota_exceeded", "", ClassQuotaExhausted, false),
		gobRow("500 server_error yes", 500, "server_error", "", ClassServerError, true),
		gobRow("502 upstream_error yes", 502, "upstream_error", "", ClassServerError, true),
		gobRow("503 service_unavailable yes", 503, "service_unavailable", "", ClassOverloaded, true),
		gobRow("503 horde_unavailable yes", 503, "horde_unavailable", "", ClassModelOverloaded, true),
		gobRow("504 request_timeout yes", 504, "request_timeout", "", ClassTimeout, true),
		// "| Code | Type | Notes |"
		gobRow("invalid_api_key authentication_error", 401, "authentication_error", "invalid_api_key", ClassAuth, false),
		gobRow("expired_api_key authentication_error", 401, "authentication_error", "expired_api_key", ClassAuth, false),
		gobRow("revoked_api_key authentication_error", 401, "authentication_error", "revoked_api_key", ClassAuth, false),
		gobRow("wrong_password_to_cave authentication_error", 401, "authentication_error", "wrong_password_to_cave", ClassAuth, false),
		gobRow("scope_required permission_error", 403, "permission_error", "scope_required", ClassPermission, false),
		gobRow("model_not_found not_found_error", 404, "not_found_error", "model_not_found", ClassNotFound, false),
		gobRow("context_length_exceeded invalid_request_error", 400, "invalid_request_error", "context_length_exceeded", ClassContextLength, false),
		gobRow("invalid_mining_depth invalid_request_error", 400, "invalid_request_error", "invalid_mining_depth", ClassInvalidRequest, false),
		gobRow("too_many_tokens rate_limit_exceeded", 429, "rate_limit_exceeded", "too_many_tokens", ClassRateLimited, true),
		gobRow("no_treasure_in_hoard quota_exceeded", 429, "quota_exceeded", "no_treasure_in_hoard", ClassQuotaExhausted, false),
		gobRow("cave_collapsed server_error", 500, "server_error", "cave_collapsed", ClassServerError, true),
		gobRow("horde_unavailable service_unavailable", 503, "service_unavailable", "horde_unavailable", ClassModelOverloaded, true),
		gobRow("goblin_distracted server_error", 500, "server_error", "goblin_distracted", ClassServerError, true),
		gobRow("safety_filter_triggered invalid_request_error", 400, "invalid_request_error", "safety_filter_triggered", ClassContentFiltered, false),
		// "gremlin_in_the_pipes | rate_limit_exceeded | RPM limit hit. Includes retry_after"
		{doc: "gremlin_in_the_pipes rate_limit_exceeded retry_after 12", step: llmretrytest.Dialect("gptgob").RateLimit(12),
			class: ClassRateLimited, retried: true, wait: 12 * time.Second, requestID: true},
	}
	runRows(t, gptGobPolicy, rows)

	// "The official SDKs do this automatically with sensible defaults (max_attempts=3, base delay 1s)."
	if p := gptGobPolicy(); p.maxRetries()+1 != 3 || p.BaseDelay != time.Second {
		t.Errorf("GPTGob: %d attempts, base %v; want 3 attempts, base 1s", p.maxRetries()+1, p.BaseDelay)
	}
}
