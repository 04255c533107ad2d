package llmretrytest

import "net/http"

// cerebrasFormat writes message, type, param and code at the top level, as
// Cerebras's 429s show: {"message":"Requests per minute limit exceeded - too
// many requests sent.","type":"too_many_requests_error","param":"quota",
// "code":"request_quota_exceeded"}.
var cerebrasFormat = format{
	name: "cerebras",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		return map[string]any{"message": e.Message, "type": e.Type, "param": e.Param, "code": e.Code}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "too_many_requests_error", Code: "request_quota_exceeded", Param: "quota",
			Message: "Requests per minute limit exceeded - too many requests sent.", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 402, Type: "payment_required", Code: "payment_required", Message: "Payment required."}
	},
}
