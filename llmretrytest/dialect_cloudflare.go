package llmretrytest

import (
	"net/http"
	"strconv"
)

// cloudflareFormat is Cloudflare's API envelope, which Workers AI answers in
// (api.cloudflare.com/client/v4/accounts/{id}/ai/run/…):
// {"success":false,"errors":[{"code":3036,"message":"…"}],"messages":[],"result":null}.
// A numeric Code is written as a number, as Cloudflare does; the type is not
// written (the envelope has none). Its internal codes and messages are those
// of developers.cloudflare.com/workers-ai/platform/errors/.
var cloudflareFormat = format{
	name: "cloudflare",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		h.Set("Cf-Ray", "8f0c1d2e3a4b5c6d-AMS")
		item := map[string]any{"message": e.Message}
		if n, err := strconv.Atoi(e.Code); err == nil {
			item["code"] = n
		} else if e.Code != "" {
			item["code"] = e.Code
		}
		return map[string]any{"success": false, "errors": []any{item}, "messages": []any{}, "result": nil}
	},
	// Cloudflare's API rate limit ("retry-after: The number of seconds,
	// rounded up, until more capacity is available"), as its 429s read:
	// code 971. Workers AI's errors page gives no code of its own for its
	// per-model limits.
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Code: "971", Message: "Please wait and consider throttling your request speed", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 429, Code: "3036", Message: "You have used up your daily free allocation of 10,000 neurons. " +
			"Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Code: "3040", Message: "No more data centers to forward the request to", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Message: "Internal server error"}
	},
}
