package llmretrytest

import "net/http"

// cohereFormat is Cohere's error object, {"message": string}
// (docs.cohere.com/reference/errors), with its per-minute and trial-key
// monthly limits as 429s.
var cohereFormat = format{
	name: "cohere",
	body: func(e ErrorReply, h http.Header) any {
		retryAfterHeader(e, h)
		return map[string]any{"message": e.Message}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, RetryAfter: n,
			Message: "You are past the per minute request limit, please wait and try again later."}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 429, Message: "You are using a Trial key, which is limited to 1000 API calls / month. " +
			"You can continue to use the Trial key for free or upgrade to a Production key to increase your rate limit."}
	},
}
