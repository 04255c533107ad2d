package llmretry

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// providerRow is one row of a provider's published error reference, sent by
// the fake provider in that provider's format, and what the Transport must do.
type providerRow struct {
	doc       string // the row as the document writes it
	step      llmretrytest.Step
	class     Class
	retried   bool
	wait      time.Duration // the wait before the retry, when the server gives a hint
	requestID bool          // the error carries the response's request id
}

func gobRow(doc string, status int, typ, code string, class Class, retried bool) providerRow {
	return providerRow{doc: doc, step: llmretrytest.GPTGob.Error(llmretrytest.ErrorReply{Status: status, Type: typ, Code: code, Message: doc}),
		class: class, retried: retried, requestID: true}
}

// runRows sends each row through a Transport with policy p: the row's answer
// first, then a success.
func runRows(t *testing.T, p func() *Policy, rows []providerRow) {
	t.Helper()
	for _, row := range rows {
		t.Run(row.doc, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, p())
			srv.Enqueue(row.step)
			var first AttemptInfo
			tr.OnAttempt = func(a AttemptInfo) {
				if a.Attempt == 1 {
					first = a
				}
			}
			resp, _, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got := first.Verdict.Class; got != row.class {
				t.Errorf("class = %v, want %v", got, row.class)
			}
			if row.requestID && first.Verdict.RequestID == "" {
				t.Error("request id missing")
			}
			attempts := len(srv.Requests())
			if row.retried {
				if attempts != 2 || resp.StatusCode != 200 {
					t.Errorf("got %d after %d attempts, want a retry and success", resp.StatusCode, attempts)
				}
				if row.wait > 0 {
					if w := ft.Waits(); len(w) != 1 || w[0] != row.wait {
						t.Errorf("waits = %v, want [%v]", w, row.wait)
					}
				}
				return
			}
			if attempts != 1 {
				t.Errorf("attempts = %d, want 1 (not retried)", attempts)
			}
			if got, want := resp.StatusCode, row.step.Status; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
		})
	}
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
		{doc: "gremlin_in_the_pipes rate_limit_exceeded retry_after 12", step: llmretrytest.GPTGob.RateLimit(12),
			class: RateLimited, retried: true, wait: 12 * time.Second, requestID: true},
	}
	runRows(t, GPTGob, rows)

	// "The official SDKs do this automatically with sensible defaults (max_attempts=3, base delay 1s)."
	if p := GPTGob(); p.maxRetries()+1 != 3 || p.BaseDelay != time.Second {
		t.Errorf("GPTGob: %d attempts, base %v; want 3 attempts, base 1s", p.maxRetries()+1, p.BaseDelay)
	}
}

func cerebrasRow(status int, class Class, retried bool) providerRow {
	return providerRow{doc: strconv.Itoa(status) + " " + class.String(), class: class, retried: retried,
		step: llmretrytest.Cerebras.Error(llmretrytest.ErrorReply{Status: status, Type: "error", Message: http.StatusText(status)})}
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
		{doc: "429 with Retry-After", step: llmretrytest.Cerebras.RateLimit(4), class: RateLimited, retried: true, wait: 4 * time.Second},
	}
	runRows(t, Cerebras, rows)
	// "By default, certain errors are automatically retried 2 times"; "Requests time out after 1 minute by default".
	if p := Cerebras(); p.maxRetries() != 2 || p.AttemptTimeout != time.Minute {
		t.Errorf("Cerebras: %d retries, attempt timeout %v; want 2 and 1m", p.maxRetries(), p.AttemptTimeout)
	}
}

func sambaRow(status int, code, param string, class Class, retried bool) providerRow {
	typ := "invalid_request_error"
	return providerRow{doc: strconv.Itoa(status) + " " + code, class: class, retried: retried,
		step: llmretrytest.SambaNova.Error(llmretrytest.ErrorReply{Status: status, Type: typ, Code: code, Param: param, Message: code})}
}

// TestSambaNova covers every code in sambanova.md.
func TestSambaNova(t *testing.T) {
	t.Parallel()
	rows := []providerRow{
		sambaRow(400, "context_length_exceeded", "", ContextLength, false),
		sambaRow(400, "invalid_type", "temperature", InvalidRequest, false),
		sambaRow(400, "decimal_above_max_value", "top_p", InvalidRequest, false),
		sambaRow(400, "decimal_below_min_value", "top_p", InvalidRequest, false),
		sambaRow(400, "integer_above_max_value", "max_tokens", InvalidRequest, false),
		sambaRow(400, "model_not_found", "model", NotFound, false),
		sambaRow(401, "invalid_authentication", "", Auth, false),
		sambaRow(408, "request_timeout", "", Timeout, true),
		// "insufficient_quota: Access to the SambaNova Cloud API may be rate limited depending on your subscription tier."
		sambaRow(429, "insufficient_quota", "", RateLimited, true),
		{doc: "429 insufficient_quota with Retry-After", step: llmretrytest.SambaNova.RateLimit(2), class: RateLimited, retried: true, wait: 2 * time.Second},
	}
	runRows(t, SambaNova, rows)

	// "the property (if applicable) causing the error": param reaches the APIError.
	srv := llmretrytest.Start(t)
	srv.Enqueue(sambaRow(400, "decimal_above_max_value", "top_p", InvalidRequest, false).step)
	tr := &Transport{Policy: SambaNova(), ReturnErrors: true}
	_, _, err := post(t, tr, srv.URL)
	if e, ok := err.(*APIError); !ok || e.Param != "top_p" || e.Class != InvalidRequest {
		t.Errorf("err = %#v, want an InvalidRequest APIError with Param top_p", err)
	}
}

func cencoriRow(status int, code string, class Class, retried bool) providerRow {
	return providerRow{doc: code + " (" + strconv.Itoa(status) + ")", class: class, retried: retried,
		step: llmretrytest.Cencori.Error(llmretrytest.ErrorReply{Status: status, Code: code, Message: code})}
}

// TestCencori covers cencori.md's codes, status table and rate-limit headers.
func TestCencori(t *testing.T) {
	t.Parallel()
	rows := []providerRow{
		cencoriRow(401, "INVALID_API_KEY", Auth, false),
		cencoriRow(403, "SECURITY_VIOLATION", ContentFiltered, false),
		cencoriRow(429, "RATE_LIMIT_EXCEEDED", RateLimited, true),
		cencoriRow(403, "INSUFFICIENT_CREDITS", QuotaExhausted, false),
		cencoriRow(503, "PROVIDER_ERROR", Overloaded, true),
		cencoriRow(400, "BAD_REQUEST", InvalidRequest, false),
		cencoriRow(404, "NOT_FOUND", NotFound, false),
		cencoriRow(500, "INTERNAL_ERROR", ServerError, true),
		// "Retry-After: Seconds to wait before retrying"
		{doc: "429 Retry-After", step: llmretrytest.Cencori.RateLimit(5), class: RateLimited, retried: true, wait: 5 * time.Second},
	}
	runRows(t, Cencori, rows)

	// "X-RateLimit-Reset: Unix timestamp when limit resets", without Retry-After.
	tr, srv, ft := setup(t, Cencori())
	step := llmretrytest.Cencori.Error(llmretrytest.ErrorReply{Status: 429, Code: "RATE_LIMIT_EXCEEDED", Message: "Too many requests"})
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

// TestSolidRusT covers solidrust.md's examples and status table.
func TestSolidRusT(t *testing.T) {
	t.Parallel()
	sr := func(status int, typ, code string, class Class, retried bool) providerRow {
		return providerRow{doc: strconv.Itoa(status) + " " + typ + "/" + code, class: class, retried: retried,
			step: llmretrytest.SolidRusT.Error(llmretrytest.ErrorReply{Status: status, Type: typ, Code: code, Message: code})}
	}
	rows := []providerRow{
		sr(401, "authentication_error", "invalid_api_key", Auth, false),
		sr(400, "invalid_request_error", "invalid_parameter", InvalidRequest, false),
		sr(403, "permission_error", "forbidden", Permission, false),
		sr(404, "invalid_request_error", "not_found", NotFound, false),
		sr(500, "server_error", "internal_error", ServerError, true),
		sr(503, "service_unavailable", "service_unavailable", Overloaded, true),
		// "Rate limit exceeded. Please retry after 60 seconds." — the wait is only in the message.
		{doc: "429 rate_limit_exceeded retry after 60 seconds", step: llmretrytest.SolidRusT.RateLimit(60),
			class: RateLimited, retried: true, wait: 60 * time.Second},
	}
	runRows(t, SolidRusT, rows)
}

func TestHostRouting(t *testing.T) {
	t.Parallel()
	gob := GPTGob()
	tr := &Transport{Hosts: map[string]*Policy{"gob.example": gob}}
	tests := []struct {
		url  string
		want string
	}{
		{"https://gob.example/v1/chat/completions", "gptgob"},
		{"https://gob.example:8443/v1", "gptgob"},
		{"https://api.cerebras.ai/v1/chat/completions", "cerebras"},
		{"https://API.SambaNova.ai/v1", "sambanova"},
		{"https://api.solidrust.ai/v1", "solidrust"},
		{"https://unknown.example/v1", "generic"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, tt.url, nil)
		if got := tr.policyFor(req, requestOptions{}).name(); got != tt.want {
			t.Errorf("%s: policy %q, want %q", tt.url, got, tt.want)
		}
	}
	if p1, p2 := routed(tr, "https://api.cerebras.ai/"), routed(tr, "https://api.cerebras.ai/x"); p1 != p2 {
		t.Error("the built-in route must give the same policy (and pacing state) to every request")
	}
	explicit := &Transport{Policy: SolidRusT()}
	if got := routed(explicit, "https://api.cerebras.ai/").name(); got != "solidrust" {
		t.Errorf("an explicit Policy must win over the built-in routes, got %q", got)
	}
}

func routed(tr *Transport, url string) *Policy {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return tr.policyFor(req, requestOptions{})
}

func TestPolicyCloneIsIndependent(t *testing.T) {
	t.Parallel()
	p := GPTGob()
	c := p.Clone()
	c.Codes["gremlin_in_the_pipes"] = Rule{Class: RateLimited, Retry: RetryNever}
	c.MaxRetries = 9
	if p.Codes["gremlin_in_the_pipes"].Retry != RetryDefault || p.MaxRetries != 2 {
		t.Error("changing a clone changed the original")
	}
	if GPTGob().Codes["gremlin_in_the_pipes"].Retry != RetryDefault {
		t.Error("built-in policies must be new on every call")
	}
}
