package llmretrytest

import "net/http"

// openAIBody is the nested OpenAI-compatible error: {"error":{"message",
// "type","code","param"}}, shared by the OpenAI-style dialects.
func openAIBody(e ErrorReply, h http.Header) any {
	inner := map[string]any{"message": e.Message, "type": e.Type, "code": e.Code}
	if e.Param != "" {
		inner["param"] = e.Param
	}
	retryAfterHeader(e, h)
	return map[string]any{"error": inner}
}

var openAIFormat = format{name: "openai", body: openAIBody}
