package llmretry

import (
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestMistral covers La Plateforme's error answers as it sends them (Mistral
// publishes no error table; the bodies are the ones its API returns, e.g.
// {"object":"error","message":"Rate limit exceeded","type":"rate_limited","param":null,"code":"1300"}).
func TestMistral(t *testing.T) {
	t.Parallel()
	m := llmretrytest.Dialect("mistral")
	rows := []providerRow{
		// 429 {"object":"error","message":"Rate limit exceeded","type":"rate_limited","param":null,"code":"1300"}
		{doc: "429 rate_limited 1300", step: m.RateLimit(3), class: ClassRateLimited, retried: true, wait: 3 * time.Second},
		// 429 {"message":"Requests rate limit exceeded"} — the gateway's bare form.
		rawRow("429 Requests rate limit exceeded (bare)", 429, nil, `{"message":"Requests rate limit exceeded"}`, ClassRateLimited, true, 0),
		// {"object":"error","message":"Service tier capacity exceeded for this model.","type":"invalid_request_error","param":null,"code":null}
		{doc: "429 Service tier capacity exceeded for this model.", step: m.Overloaded(0), class: ClassModelOverloaded, retried: true},
		dRow(m, "503 service_tier_capacity_exceeded 3505", llmretrytest.ErrorReply{Status: 503, Type: "service_tier_capacity_exceeded", Code: "3505",
			Message: "Service tier capacity exceeded for this model."}, ClassModelOverloaded, true),
		rawRow("401 Unauthorized", 401, nil, `{"message":"Unauthorized","request_id":"5b3c0f0e1a2b4c5d"}`, ClassAuth, false, 0),
		// 422 {"object":"error","message":{"detail":[…]},"type":"invalid_request_message_error",…}
		rawRow("422 invalid_request_message_error", 422, nil,
			`{"object":"error","message":{"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required","input":{}}]},"type":"invalid_request_message_error","param":null,"code":null}`,
			ClassInvalidRequest, false, 0),
		dRow(m, "400 invalid_request_error", llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Message: "Invalid model: mistral-huge"}, ClassInvalidRequest, false),
		{doc: "500 internal", step: m.ServerError(), class: ClassServerError, retried: true},
		dRow(m, "503 unavailable", llmretrytest.ErrorReply{Status: 503, Type: "internal_server_error", Message: "Service unavailable"}, ClassOverloaded, true),
		// A monthly token limit, no wait given.
		rawRow("429 monthly limit", 429, nil, `{"object":"error","message":"You have exceeded your monthly token limit.","type":"rate_limited","param":null,"code":"1300"}`,
			ClassQuotaExhausted, false, 0),
	}
	runRows(t, mistralPolicy, rows)
}
