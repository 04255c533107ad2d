package llmretrytest

import (
	"net/http"
	"strconv"
)

// azureFormat: Azure OpenAI writes the status as the code ("429") and sends
// Retry-After and retry-after-ms; a content filter carries an innererror.
var azureFormat = format{
	name: "azure-openai",
	body: func(e ErrorReply, h http.Header) any {
		code := e.Code
		if code == "" {
			code = strconv.Itoa(e.Status)
		}
		inner := map[string]any{"code": code, "message": e.Message}
		if e.Type != "" {
			inner["type"] = e.Type
		}
		if e.Param != "" {
			inner["param"] = e.Param
		}
		if code == "content_filter" {
			inner["status"] = e.Status
			inner["innererror"] = map[string]any{"code": "ResponsibleAIPolicyViolation", "content_filter_result": map[string]any{
				"hate": map[string]any{"filtered": true, "severity": "high"}, "jailbreak": map[string]any{"filtered": false, "detected": false},
			}}
		}
		h.Set("Apim-Request-Id", "5f1b2c3d-0000-4444-8888-abcdef012345")
		if e.RetryAfter > 0 {
			h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
			h.Set("Retry-After-Ms", strconv.Itoa(e.RetryAfter*1000))
		}
		return map[string]any{"error": inner}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, RetryAfter: n, Message: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 " +
			"have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after " + strconv.Itoa(n) +
			" seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}
	},
	quota: func() *ErrorReply {
		// A quota that refills in a day: the wait is beyond any MaxWait.
		return &ErrorReply{Status: 429, RetryAfter: 86400, Message: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 " +
			"have exceeded call rate limit of your current AIServices S0 pricing tier. Please retry after 86400 seconds."}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Code: "InternalServerError", Message: "The service is temporarily unable to process your request. Please try again later."}
	},
}
