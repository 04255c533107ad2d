package llmretrytest

// togetherFormat is OpenAI's shape with Together's 429 types; Together
// documents statuses, not bodies, so the messages follow its error table.
var togetherFormat = format{
	name: "together",
	body: openAIBody,
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "dynamic_request_limited", Message: "Request was rate limited: you are above your dynamic rate for this model.", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 402, Type: "invalid_request_error", Message: "Payment required: the account has reached its spending limit or run out of credits."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Type: "server_error", Message: "Engine Overloaded", RetryAfter: n}
	},
}
