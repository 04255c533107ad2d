package llmretrytest

import "net/http"

// anthropicFormat writes {"type":"error","error":{"type","message"}}, with
// error.details.error_code when the reply has a code (enforced_spend_limit_reached).
var anthropicFormat = format{
	name: "anthropic",
	body: func(e ErrorReply, h http.Header) any {
		inner := map[string]any{"type": e.Type, "message": e.Message}
		if e.Code != "" {
			inner["details"] = map[string]any{"error_code": e.Code}
		}
		retryAfterHeader(e, h)
		return map[string]any{"type": "error", "error": inner}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "rate_limit_error", Message: "Number of requests has exceeded your rate limit.", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 400, Type: "invalid_request_error", Message: "Your credit balance is too low to access the Anthropic API."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 529, Type: "overloaded_error", Message: "Overloaded", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "api_error", Message: "Internal server error."}
	},
}
