package llmretrytest

import "strconv"

var solidRusTFormat = format{
	name: "solidrust",
	body: openAIBody,
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded",
			Message: "Rate limit exceeded. Please retry after " + strconv.Itoa(n) + " seconds."}
	},
}
