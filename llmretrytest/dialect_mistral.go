package llmretrytest

import "net/http"

// mistralFormat writes Mistral's flat error: {"object":"error","message",
// "type","param","code"}.
var mistralFormat = format{
	name: "mistral",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		var code, param any
		if e.Code != "" {
			code = e.Code
		}
		if e.Param != "" {
			param = e.Param
		}
		return map[string]any{"object": "error", "message": e.Message, "type": e.Type, "param": param, "code": code}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "rate_limited", Code: "1300", Message: "Rate limit exceeded", RetryAfter: n}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "invalid_request_error", Message: "Service tier capacity exceeded for this model.", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "internal_server_error", Message: "Internal server error"}
	},
}
