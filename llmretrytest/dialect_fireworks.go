package llmretrytest

import "net/http"

// fireworksFormat is OpenAI's shape with "object":"error".
var fireworksFormat = format{
	name: "fireworks",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		inner := map[string]any{"object": "error", "type": e.Type, "message": e.Message}
		if e.Code != "" {
			inner["code"] = e.Code
		}
		return map[string]any{"error": inner}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 402, Type: "invalid_request_error", Message: "Account is not on a paid plan or has exceeded usage limits."}
	},
}
