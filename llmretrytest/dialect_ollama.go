package llmretrytest

import "net/http"

// ollamaFormat is Ollama's {"error":"message"} (docs.ollama.com/api/errors):
// no type, no code. A full queue (OLLAMA_MAX_QUEUE) is a 503, "server busy,
// please try again.  maximum pending requests exceeded"; its cloud models
// answer 429 for their usage limits.
var ollamaFormat = format{
	name: "ollama",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		return map[string]any{"error": e.Message}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Message: "too many concurrent requests", RetryAfter: n}
	},
	// Ollama's cloud documents hourly and weekly usage limits, not the
	// wording of their 429: this one names the weekly window.
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 429, Message: "you have reached your weekly usage limit, upgrade for higher limits"}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Message: "server busy, please try again.  maximum pending requests exceeded", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Message: "an error was encountered while running the model"}
	},
}
