package llmretrytest

var sambaNovaFormat = format{
	name: "sambanova",
	body: openAIBody,
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "rate_limit_exceeded", Code: "insufficient_quota",
			Message: "Access to the SambaNova Cloud API is rate limited depending on your subscription tier.", RetryAfter: n}
	},
}
