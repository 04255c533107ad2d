package llmretrytest

import "net/http"

// vllmFormat is vLLM's OpenAI-compatible server: its ErrorResponse nests
// {"message","type","param","code"} under "error", the type named after
// the status ("BadRequestError", "NotFoundError", "InternalServerError")
// and the code the HTTP status as a number. (Versions before the nesting
// wrote the same fields at the top level with "object":"error".) vLLM has no
// rate limit or quota of its own: its 429 and quota answers are what a
// gateway in front of it would send, in its shape.
var vllmFormat = format{
	name: "vllm",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		return map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type, "param": nilIfEmpty(e.Param), "code": e.Status}}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Type: "ServiceUnavailableError", Message: "Service Unavailable", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "InternalServerError", Message: "EngineCore encountered an issue. See stack trace (above) for the root cause."}
	},
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
