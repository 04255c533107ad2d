package llmretrytest

import (
	"net/http"
	"strconv"
	"time"
)

// openRouterFormat writes {"error":{"code":N,"message","metadata":{…}}}. Its
// 429 for its own limits copies the rate-limit headers into
// error.metadata.headers, the reset in Unix milliseconds (computed from the
// wall clock when the step is built).
var openRouterFormat = format{
	name: "openrouter",
	body: func(e ErrorReply, h http.Header) any {
		inner := map[string]any{"code": e.Status, "message": e.Message}
		switch {
		case e.Status == 429 && e.RetryAfter > 0:
			reset := time.Now().Add(time.Duration(e.RetryAfter) * time.Second).UnixMilli()
			inner["metadata"] = map[string]any{"headers": map[string]any{
				"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)},
				"provider_name": nil}
		case e.Status == 403 && e.Code == "moderation":
			inner["metadata"] = map[string]any{"reasons": []any{"harassment"}, "flagged_input": "…", "provider_name": "OpenAI", "model_slug": "openai/gpt-4o"}
		case e.Code != "":
			inner["metadata"] = map[string]any{"provider_name": e.Code, "raw": e.Type}
		}
		return map[string]any{"error": inner, "user_id": "user_2abc"}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Message: "Rate limit exceeded: free-models-per-min. ", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 402, Message: "This request requires more credits, or fewer max_tokens. You requested up to 4096 tokens, " +
			"but can only afford 1000. To increase, visit https://openrouter.ai/settings/credits and upgrade to a paid account"}
	},
	overloaded: func(int) *ErrorReply {
		return &ErrorReply{Status: 503, Message: "No allowed providers are available for the selected model."}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 502, Code: "Chutes", Type: `{"detail":"Internal Server Error"}`, Message: "Provider returned error"}
	},
}
