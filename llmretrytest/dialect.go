package llmretrytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Dialect is the error format of one provider, as its published error
// reference shows it.
type Dialect uint8

const (
	// OpenAI is the nested OpenAI-compatible shape, also used by SambaNova
	// and SolidRusT: {"error":{"message","type","param","code"}}.
	OpenAI Dialect = iota
	// GPTGob nests type, code, message, param and retry_after under "error"
	// and sends X-Request-Id on every response.
	GPTGob
	// Cerebras writes message, type, param and code at the top level.
	Cerebras
	// SambaNova is OpenAI's shape with SambaNova's codes.
	SambaNova
	// Cencori writes {"error":"message","code":"CODE","status":N,"details":{}}
	// and sends X-RateLimit-Limit/Remaining/Reset with its 429s.
	Cencori
	// SolidRusT is OpenAI's shape; its 429 states the wait only in the message.
	SolidRusT
	// Anthropic writes {"type":"error","error":{"type","message"}}; the
	// server answers its Messages API (paths ending in /messages) in
	// Anthropic's format.
	Anthropic
)

var dialectNames = [...]string{"openai", "gptgob", "cerebras", "sambanova", "cencori", "solidrust", "anthropic"}

// String returns the dialect's name, e.g. "gptgob".
func (d Dialect) String() string {
	if int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// ParseDialect returns the dialect named s, as String writes it.
func ParseDialect(s string) (Dialect, bool) {
	for i, n := range dialectNames {
		if n == s {
			return Dialect(i), true
		}
	}
	return 0, false
}

// Dialects lists every dialect.
func Dialects() []Dialect {
	return []Dialect{OpenAI, GPTGob, Cerebras, SambaNova, Cencori, SolidRusT, Anthropic}
}

// ErrorReply describes an error answer independently of its dialect.
type ErrorReply struct {
	Status  int
	Type    string // error type (Cencori has none)
	Code    string
	Message string
	Param   string
	// RetryAfter, if > 0, is written where the dialect puts it: GPT-Gob's
	// body retry_after; a Retry-After header for the others.
	RetryAfter int
}

// Error returns a Step that answers with e in dialect d's exact format.
func (d Dialect) Error(e ErrorReply) Step {
	h := http.Header{"Content-Type": {"application/json"}}
	var body any
	switch d {
	case GPTGob:
		inner := map[string]any{"type": e.Type, "code": e.Code, "message": e.Message, "param": nil}
		if e.Param != "" {
			inner["param"] = e.Param
		}
		if e.RetryAfter > 0 {
			inner["retry_after"] = e.RetryAfter
		}
		body = map[string]any{"error": inner}
	case Cerebras:
		body = map[string]any{"message": e.Message, "type": e.Type, "param": e.Param, "code": e.Code}
	case Cencori:
		body = map[string]any{"error": e.Message, "code": e.Code, "status": e.Status, "details": map[string]any{}}
	case Anthropic:
		body = map[string]any{"type": "error", "error": map[string]any{"type": e.Type, "message": e.Message}}
	default:
		inner := map[string]any{"message": e.Message, "type": e.Type, "code": e.Code}
		if e.Param != "" {
			inner["param"] = e.Param
		}
		body = map[string]any{"error": inner}
	}
	if e.RetryAfter > 0 && d != GPTGob {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	b, _ := json.Marshal(body)
	return Step{Status: e.Status, Header: h, Body: b}
}

// RateLimit returns the dialect's usual answer to too many requests, with a
// wait hint of retryAfter seconds where the dialect gives one (SolidRusT's is
// in the message only).
func (d Dialect) RateLimit(retryAfter int) Step {
	switch d {
	case GPTGob:
		return d.Error(ErrorReply{Status: 429, Type: "rate_limit_exceeded", Code: "gremlin_in_the_pipes",
			Message: "too many requests, tall one. come back in " + strconv.Itoa(retryAfter) + "s.", RetryAfter: retryAfter})
	case Cencori:
		return d.Error(ErrorReply{Status: 429, Code: "RATE_LIMIT_EXCEEDED", Message: "Too many requests in a short time period.", RetryAfter: retryAfter})
	case SambaNova:
		return d.Error(ErrorReply{Status: 429, Type: "rate_limit_exceeded", Code: "insufficient_quota",
			Message: "Access to the SambaNova Cloud API is rate limited depending on your subscription tier.", RetryAfter: retryAfter})
	case SolidRusT:
		return d.Error(ErrorReply{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded",
			Message: "Rate limit exceeded. Please retry after " + strconv.Itoa(retryAfter) + " seconds."})
	case Cerebras:
		return d.Error(ErrorReply{Status: 429, Type: "too_many_requests_error", Code: "request_quota_exceeded",
			Message: "Requests per minute limit exceeded - too many requests sent.", RetryAfter: retryAfter})
	case Anthropic:
		return d.Error(ErrorReply{Status: 429, Type: "rate_limit_error", Message: "Number of requests has exceeded your rate limit.", RetryAfter: retryAfter})
	}
	return d.Error(ErrorReply{Status: 429, Type: "requests", Code: "rate_limit_exceeded",
		Message: "Rate limit reached for requests. Please try again in " + strconv.Itoa(retryAfter) + "s.", RetryAfter: retryAfter})
}

// Quota returns the dialect's answer for an exhausted billing quota, which
// must not be retried.
func (d Dialect) Quota() Step {
	switch d {
	case GPTGob:
		return d.Error(ErrorReply{Status: 429, Type: "quota_exceeded", Code: "no_treasure_in_hoard", Message: "the hoard is empty. monthly quota gone."})
	case Cencori:
		return d.Error(ErrorReply{Status: 403, Code: "INSUFFICIENT_CREDITS", Message: "Your organization has run out of credits."})
	case Cerebras:
		return d.Error(ErrorReply{Status: 402, Type: "payment_required", Code: "payment_required", Message: "Payment required."})
	case Anthropic:
		return d.Error(ErrorReply{Status: 400, Type: "invalid_request_error", Message: "Your credit balance is too low to access the Anthropic API."})
	}
	return d.Error(ErrorReply{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "You exceeded your current quota, please check your plan and billing details."})
}

// Overloaded returns the dialect's 503 answer.
func (d Dialect) Overloaded(retryAfter int) Step {
	switch d {
	case GPTGob:
		return d.Error(ErrorReply{Status: 503, Type: "service_unavailable", Code: "horde_unavailable", Message: "the horde is busy. try another tier.", RetryAfter: retryAfter})
	case Cencori:
		return d.Error(ErrorReply{Status: 503, Code: "PROVIDER_ERROR", Message: "The AI provider is unavailable.", RetryAfter: retryAfter})
	case Anthropic:
		return d.Error(ErrorReply{Status: 529, Type: "overloaded_error", Message: "Overloaded", RetryAfter: retryAfter})
	}
	return d.Error(ErrorReply{Status: 503, Type: "service_unavailable", Code: "service_unavailable", Message: "Service temporarily unavailable.", RetryAfter: retryAfter})
}

// ServerError returns the dialect's 500 answer (for GPT-Gob, a generation
// aborted mid-stream).
func (d Dialect) ServerError() Step {
	switch d {
	case GPTGob:
		return d.Error(ErrorReply{Status: 500, Type: "server_error", Code: "goblin_distracted", Message: "the goblin got distracted. retry."})
	case Cencori:
		return d.Error(ErrorReply{Status: 500, Code: "INTERNAL_ERROR", Message: "Server-side error."})
	case Anthropic:
		return d.Error(ErrorReply{Status: 500, Type: "api_error", Message: "Internal server error."})
	}
	return d.Error(ErrorReply{Status: 500, Type: "server_error", Code: "internal_error", Message: "The server had an error while processing your request."})
}

// StreamError returns a Step that answers 200 with an event stream which
// fails: the first after events of the success stream (Stream, or for the
// Anthropic dialect MessageStream), then e as an error event in d's format,
// then the end of the stream. after = 0 fails before the first token.
//
// The error event is the dialect's error body as an event's data
// (data: {"error":{…}}), and for Anthropic an "error" event
// (event: error, data: {"type":"error","error":{…}}).
func (d Dialect) StreamError(e ErrorReply, after int) Step {
	success := Stream
	if d == Anthropic {
		success = MessageStream
	}
	var b []byte
	rest := success
	for i := 0; i < after; i++ {
		j := strings.Index(rest, "\n\n")
		if j < 0 {
			break
		}
		b, rest = append(b, rest[:j+2]...), rest[j+2:]
	}
	body := d.Error(e).Body
	if d == Anthropic {
		b = append(b, "event: error\n"...)
	}
	b = append(b, "data: "...)
	b = append(b, body...)
	b = append(b, "\n\n"...)
	return Step{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: b}
}

// AbortedStream returns the dialect's stream that fails mid-generation after
// after events: for GPT-Gob the goblin_distracted error ("Generation aborted
// mid-stream. Retry."), for Anthropic an overloaded_error, for others a
// server_error.
func (d Dialect) AbortedStream(after int) Step {
	switch d {
	case GPTGob:
		return d.StreamError(ErrorReply{Status: 500, Type: "server_error", Code: "goblin_distracted", Message: "the goblin got distracted. retry."}, after)
	case Anthropic:
		return d.StreamError(ErrorReply{Status: 529, Type: "overloaded_error", Message: "Overloaded"}, after)
	case Cencori:
		return d.StreamError(ErrorReply{Status: 503, Code: "PROVIDER_ERROR", Message: "The AI provider is unavailable."}, after)
	}
	return d.StreamError(ErrorReply{Status: 500, Type: "server_error", Code: "internal_error", Message: "The server had an error while processing your request."}, after)
}
