package llmretrytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Dialect names the error format of one provider, as its published error
// reference and its real answers show it: llmretrytest.Dialect("gptgob").
// [Dialects] lists the known names, which are the names of llmretry's
// built-in policies: "openai", "gptgob", "cerebras", "sambanova",
// "cencori", "solidrust", "anthropic", "gemini", "azure-openai", "bedrock",
// "groq", "mistral", "openrouter", "deepseek", "xai", "together",
// "fireworks", "cloudflare", "cohere", "vllm", "tgi", "ollama".
//
// An unknown dialect, "" included, answers in the generic OpenAI-compatible
// shape, {"error":{"message","type","param","code"}} with a Retry-After
// header, which is also what "openai" writes. The "anthropic" dialect's
// success streams are Anthropic's (MessageStream).
type Dialect string

// format is how one dialect writes errors. body returns the JSON body of e
// and may set headers; the canned answers return nil where the dialect has
// nothing of its own, and the OpenAI-style answer is used. Each provider
// family's format is in its own file, dialect_<family>.go.
type format struct {
	name        string
	body        func(e ErrorReply, h http.Header) any
	rateLimit   func(retryAfter int) *ErrorReply
	quota       func() *ErrorReply
	overloaded  func(retryAfter int) *ErrorReply
	serverError func() *ErrorReply
}

// formats are the known dialects, in the order Dialects lists them.
var formats = []*format{
	&openAIFormat, &gptGobFormat, &cerebrasFormat, &sambaNovaFormat, &cencoriFormat, &solidRusTFormat,
	&anthropicFormat, &geminiFormat, &azureFormat, &bedrockFormat, &groqFormat, &mistralFormat,
	&openRouterFormat, &deepSeekFormat, &xaiFormat, &togetherFormat, &fireworksFormat, &cloudflareFormat,
	&cohereFormat, &vllmFormat, &tgiFormat, &ollamaFormat,
}

func (d Dialect) format() *format {
	for _, f := range formats {
		if f.name == string(d) {
			return f
		}
	}
	return &openAIFormat
}

// String returns the dialect's name, e.g. "gptgob".
func (d Dialect) String() string { return string(d) }

// Dialects lists the known dialects.
func Dialects() []Dialect {
	ds := make([]Dialect, len(formats))
	for i, f := range formats {
		ds[i] = Dialect(f.name)
	}
	return ds
}

// ErrorReply describes an error answer independently of its dialect.
type ErrorReply struct {
	Status  int
	Type    string // error type (Cencori has none; Google's status, e.g. RESOURCE_EXHAUSTED)
	Code    string // error code (Google: an ErrorInfo reason; Bedrock: the exception name)
	Message string
	Param   string
	// RetryAfter, if > 0, is written where the dialect puts it: GPT-Gob's
	// body retry_after; Google's RetryInfo retryDelay; Azure's Retry-After
	// and retry-after-ms; nowhere for Bedrock; a Retry-After header for the
	// others.
	RetryAfter int
	// Quota names the exhausted quota where the dialect says which: Google's
	// QuotaFailure quotaId, e.g. "GenerateRequestsPerDayPerProjectPerModel-FreeTier".
	Quota string
}

// Error returns a Step that answers with e in dialect d's exact format.
func (d Dialect) Error(e ErrorReply) Step {
	h := http.Header{"Content-Type": {"application/json"}}
	b, _ := json.Marshal(d.format().body(e, h))
	return Step{Status: e.Status, Header: h, Body: b}
}

// retryAfterHeader writes e's wait as a Retry-After header, the usual place.
func retryAfterHeader(e ErrorReply, h http.Header) {
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}

// RateLimit returns the dialect's usual answer to too many requests, with a
// wait hint of retryAfter seconds where the dialect gives one (SolidRusT's is
// in the message only, Bedrock gives none).
func (d Dialect) RateLimit(retryAfter int) Step {
	if f := d.format(); f.rateLimit != nil {
		if e := f.rateLimit(retryAfter); e != nil {
			return d.Error(*e)
		}
	}
	return d.Error(ErrorReply{Status: 429, Type: "requests", Code: "rate_limit_exceeded",
		Message: "Rate limit reached for requests. Please try again in " + strconv.Itoa(retryAfter) + "s.", RetryAfter: retryAfter})
}

// QuotaExhausted returns the dialect's answer for an exhausted quota
// (billing, credits, or a daily or monthly allowance) as the provider
// writes it, which a prompt retry does not cure; a few providers say it as
// a rate limit with a long wait (Azure: Retry-After 86400). Not to be
// confused with [Quota], one count of a limit the Server enforces, whose
// refusals are rate-limit 429s.
func (d Dialect) QuotaExhausted() Step {
	if f := d.format(); f.quota != nil {
		if e := f.quota(); e != nil {
			return d.Error(*e)
		}
	}
	return d.Error(ErrorReply{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "You exceeded your current quota, please check your plan and billing details."})
}

// Overloaded returns the dialect's answer for a service (or model) at capacity.
func (d Dialect) Overloaded(retryAfter int) Step {
	if f := d.format(); f.overloaded != nil {
		if e := f.overloaded(retryAfter); e != nil {
			return d.Error(*e)
		}
	}
	return d.Error(ErrorReply{Status: 503, Type: "service_unavailable", Code: "service_unavailable", Message: "Service temporarily unavailable.", RetryAfter: retryAfter})
}

// ServerError returns the dialect's 500 answer (for GPT-Gob, a generation
// aborted mid-stream).
func (d Dialect) ServerError() Step {
	if f := d.format(); f.serverError != nil {
		if e := f.serverError(); e != nil {
			return d.Error(*e)
		}
	}
	return d.Error(ErrorReply{Status: 500, Type: "server_error", Code: "internal_error", Message: "The server had an error while processing your request."})
}

// StreamError returns a Step that answers 200 with an event stream which
// fails: the first after events of the success stream (Stream, or for the
// "anthropic" dialect MessageStream), then e as an error event in d's format,
// then the end of the stream. after = 0 fails before the first token.
//
// The error event is the dialect's error body as an event's data
// (data: {"error":{…}}), and for "anthropic" an "error" event
// (event: error, data: {"type":"error","error":{…}}).
func (d Dialect) StreamError(e ErrorReply, after int) Step {
	success, anthropic := Stream, d.format() == &anthropicFormat
	if anthropic {
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
	if anthropic {
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
	switch d.format() {
	case &gptGobFormat:
		return d.StreamError(ErrorReply{Status: 500, Type: "server_error", Code: "goblin_distracted", Message: "the goblin got distracted. retry."}, after)
	case &anthropicFormat:
		return d.StreamError(ErrorReply{Status: 529, Type: "overloaded_error", Message: "Overloaded"}, after)
	case &cencoriFormat:
		return d.StreamError(ErrorReply{Status: 503, Code: "PROVIDER_ERROR", Message: "The AI provider is unavailable."}, after)
	}
	return d.StreamError(ErrorReply{Status: 500, Type: "server_error", Code: "internal_error", Message: "The server had an error while processing your request."}, after)
}
