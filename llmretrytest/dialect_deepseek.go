package llmretrytest

// deepSeekFormat is OpenAI's shape; DeepSeek puts "invalid_request_error" in
// code even where the status says more (402 Insufficient Balance).
var deepSeekFormat = format{
	name: "deepseek",
	body: openAIBody,
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "rate_limit_error", Code: "invalid_request_error", Message: "Rate Limit Reached", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 402, Type: "unknown_error", Code: "invalid_request_error", Message: "Insufficient Balance"}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Type: "unknown_error", Code: "invalid_request_error", Message: "Server Overloaded", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "unknown_error", Code: "invalid_request_error", Message: "Server Error"}
	},
}
