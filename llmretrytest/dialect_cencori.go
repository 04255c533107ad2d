package llmretrytest

import "net/http"

var cencoriFormat = format{
	name: "cencori",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		return map[string]any{"error": e.Message, "code": e.Code, "status": e.Status, "details": map[string]any{}}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Code: "RATE_LIMIT_EXCEEDED", Message: "Too many requests in a short time period.", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 403, Code: "INSUFFICIENT_CREDITS", Message: "Your organization has run out of credits."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Code: "PROVIDER_ERROR", Message: "The AI provider is unavailable.", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Code: "INTERNAL_ERROR", Message: "Server-side error."}
	},
}
