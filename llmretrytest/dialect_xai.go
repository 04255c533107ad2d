package llmretrytest

import "net/http"

// xaiFormat writes {"code":"<gRPC status text>","error":"<message>"}.
var xaiFormat = format{
	name: "xai",
	body: func(e ErrorReply, h http.Header) any {
		code := e.Code
		if code == "" {
			code = grpcText(e.Status)
		}
		retryAfterHeader(e, h)
		return map[string]any{"code": code, "error": e.Message}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Message: "Too many requests: you have reached the rate limit of your team.", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 403, Message: "Your team 0a1b2c3d-0000-4444-8888-abcdef012345 has either used all available credits or reached its monthly " +
			"spending limit. To continue making API requests, please purchase more credits or raise your spending limit."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Message: "The service is currently unavailable.", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Message: "Internal error."}
	},
}

// grpcText is the text of the gRPC status xAI writes as the code.
func grpcText(status int) string {
	switch status {
	case 400:
		return "Client specified an invalid argument"
	case 401:
		return "The request does not have valid authentication credentials"
	case 403:
		return "The caller does not have permission to execute the specified operation"
	case 404:
		return "Some requested entity was not found"
	case 429:
		return "Some resource has been exhausted"
	case 503:
		return "The service is currently unavailable"
	}
	return "Internal error"
}
