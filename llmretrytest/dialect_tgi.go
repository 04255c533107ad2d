package llmretrytest

import "net/http"

// tgiFormat is Hugging Face Text Generation Inference's router:
// {"error":"message","error_type":"overloaded"}, where error_type is one of
// "generation" (424), "overloaded" (429), "validation" (422),
// "incomplete_generation" (500) and, in later versions, "template_error" and
// "tool_error" (422). Its one 429 is "Model is overloaded": the router's
// queue of concurrent requests is full. Inference Endpoints' proxy answers
// 503 while a replica scaled to zero starts.
var tgiFormat = format{
	name: "tgi",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		return map[string]any{"error": e.Message, "error_type": e.Type}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "overloaded", Message: "Model is overloaded", RetryAfter: n}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Message: "Service Unavailable", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "incomplete_generation", Message: "Incomplete generation"}
	},
}
