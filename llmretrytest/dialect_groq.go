package llmretrytest

import (
	"net/http"
	"strconv"
)

// groqFormat is OpenAI's shape with Groq's request id and retry-after.
var groqFormat = format{
	name: "groq",
	body: func(e ErrorReply, h http.Header) any {
		h.Set("X-Request-Id", "req_01jabcdefghjkmnpqrstvwxyz0")
		return openAIBody(e, h)
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "tokens", Code: "rate_limit_exceeded", RetryAfter: n,
			Message: "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01abc` service tier `on_demand` on tokens per minute (TPM): " +
				"Limit 12000, Used 11800, Requested 500. Please try again in " + strconv.Itoa(n) + "s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 413, Type: "tokens", Code: "rate_limit_exceeded",
			Message: "Request too large for model `llama-3.3-70b-versatile` in organization `org_01abc` service tier `on_demand` on tokens per minute (TPM): " +
				"Limit 12000, Requested 28563, please reduce your message size and try again. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 498, Type: "capacity_exceeded", Code: "capacity_exceeded", RetryAfter: n,
			Message: "Flex tier capacity exceeded. This model is currently at capacity for the flex service tier. Please try again later."}
	},
}
