package llmretrytest

import (
	"net/http"
	"strconv"
)

var gptGobFormat = format{
	name: "gptgob",
	body: func(e ErrorReply, h http.Header) any {
		inner := map[string]any{"type": e.Type, "code": e.Code, "message": e.Message, "param": nil}
		if e.Param != "" {
			inner["param"] = e.Param
		}
		if e.RetryAfter > 0 {
			inner["retry_after"] = e.RetryAfter
		}
		return map[string]any{"error": inner}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "rate_limit_exceeded", Code: "gremlin_in_the_pipes",
			Message: "too many requests, tall one. come back in " + strconv.Itoa(n) + "s.", RetryAfter: n}
	},
	quota: func() *ErrorReply {
		return &ErrorReply{Status: 429, Type: "quota_exceeded", Code: "no_treasure_in_hoard", Message: "the hoard is empty. monthly quota gone."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Type: "service_unavailable", Code: "horde_unavailable", Message: "the horde is busy. try another tier.", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "server_error", Code: "goblin_distracted", Message: "the goblin got distracted. retry."}
	},
}
