package llmretrytest

import "net/http"

// bedrockFormat writes what Bedrock Runtime sends: the exception name in
// x-amzn-ErrorType, a request id in x-amzn-RequestId, and a bare
// {"message":…} body. Bedrock gives no wait hint, so RetryAfter is not written.
var bedrockFormat = format{
	name: "bedrock",
	body: func(e ErrorReply, h http.Header) any {
		name := e.Code
		if name == "" {
			name = e.Type
		}
		if name != "" {
			h.Set("X-Amzn-Errortype", name+":http://internal.amazon.com/coral/com.amazon.bedrock/")
		}
		h.Set("X-Amzn-Requestid", "0b1c2d3e-4f56-7890-abcd-ef0123456789")
		return map[string]any{"message": e.Message}
	},
	rateLimit: func(int) *ErrorReply {
		return &ErrorReply{Status: 429, Code: "ThrottlingException", Message: "Too many requests, please wait before trying again."}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 429, Code: "ThrottlingException", Message: "Too many tokens per day, please wait before trying again."}
	},
	overloaded: func(int) *ErrorReply {
		return &ErrorReply{Status: 503, Code: "ServiceUnavailableException", Message: "Bedrock is unable to process your request."}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Code: "InternalServerException", Message: "The system encountered an unexpected error during processing. Try your request again."}
	},
}
