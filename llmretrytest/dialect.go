package llmretrytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Dialect is the error format of one provider, as its published error
// reference and its real answers show it. Each provider family's format is
// in its own file, dialect_<family>.go.
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
	// Gemini writes Google's {"error":{"code","message","status","details"}},
	// with ErrorInfo, QuotaFailure and RetryInfo details.
	Gemini
	// AzureOpenAI writes {"error":{"code","message"}} with the status as a
	// string code, and Retry-After plus retry-after-ms on its 429s.
	AzureOpenAI
	// Bedrock names the exception in x-amzn-ErrorType over a bare
	// {"message":…} body, and gives no wait hint.
	Bedrock
	// Groq is OpenAI's shape with retry-after on its 429s.
	Groq
	// Mistral writes {"object":"error","message","type","param","code"}.
	Mistral
	// OpenRouter writes {"error":{"code":N,"message","metadata":{…}}}.
	OpenRouter
	// DeepSeek is OpenAI's shape, often with code "invalid_request_error".
	DeepSeek
	// XAI writes {"code":"<gRPC status text>","error":"message"}.
	XAI
	// Together is OpenAI's shape with Together's 429 types.
	Together
	// Fireworks is OpenAI's shape with "object":"error".
	Fireworks
	// Cloudflare is Cloudflare's API envelope, which Workers AI answers in:
	// {"success":false,"errors":[{"code":N,"message"}],"messages":[],"result":null},
	// with Workers AI's numeric codes (3036 the daily allocation, 3040 out of capacity).
	Cloudflare
	// Cohere writes {"message":…}; its trial keys' monthly limit is a 429.
	Cohere
	// VLLM is vLLM's OpenAI-compatible server: {"error":{"message","type",
	// "param","code"}}, the type named after the status ("BadRequestError")
	// and the code the status as a number.
	VLLM
	// TGI is Hugging Face Text Generation Inference:
	// {"error":"message","error_type":"overloaded"}.
	TGI
	// Ollama writes {"error":"message"} and nothing else.
	Ollama
	numDialects
)

// format is how one dialect writes errors. body returns the JSON body of e
// and may set headers; the canned answers return nil where the dialect has
// nothing of its own, and the OpenAI-style answer is used.
type format struct {
	name        string
	body        func(e ErrorReply, h http.Header) any
	rateLimit   func(retryAfter int) *ErrorReply
	quota       func() *ErrorReply
	overloaded  func(retryAfter int) *ErrorReply
	serverError func() *ErrorReply
}

var formats = [numDialects]*format{
	OpenAI: &openAIFormat, GPTGob: &gptGobFormat, Cerebras: &cerebrasFormat, SambaNova: &sambaNovaFormat,
	Cencori: &cencoriFormat, SolidRusT: &solidRusTFormat, Anthropic: &anthropicFormat, Gemini: &geminiFormat,
	AzureOpenAI: &azureFormat, Bedrock: &bedrockFormat, Groq: &groqFormat, Mistral: &mistralFormat,
	OpenRouter: &openRouterFormat, DeepSeek: &deepSeekFormat, XAI: &xaiFormat, Together: &togetherFormat,
	Fireworks: &fireworksFormat, Cloudflare: &cloudflareFormat, Cohere: &cohereFormat, VLLM: &vllmFormat, TGI: &tgiFormat,
	Ollama: &ollamaFormat,
}

func (d Dialect) format() *format {
	if d < numDialects {
		return formats[d]
	}
	return &openAIFormat
}

// String returns the dialect's name, e.g. "gptgob".
func (d Dialect) String() string {
	if d < numDialects {
		return formats[d].name
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// ParseDialect returns the dialect named s, as String writes it.
func ParseDialect(s string) (Dialect, bool) {
	for i, f := range formats {
		if f.name == s {
			return Dialect(i), true
		}
	}
	return 0, false
}

// Dialects lists every dialect.
func Dialects() []Dialect {
	ds := make([]Dialect, numDialects)
	for i := range ds {
		ds[i] = Dialect(i)
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

// Quota returns the dialect's answer for an exhausted quota (billing, credits,
// or a daily limit), which must not be retried.
func (d Dialect) Quota() Step {
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
