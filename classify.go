package llmretry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"
)

// Verdict is what one attempt's outcome means: its class, whether to retry,
// how long the server asked to wait, and the facts of its error body.
// It is returned by value; the zero Verdict is a success.
type Verdict struct {
	Class     Class
	Retryable bool // worth another attempt, by class, rule or X-Should-Retry

	Status    int    // HTTP status; 0 for transport errors
	Type      string // error type from the body, e.g. "rate_limit_exceeded"
	Code      string // error code from the body, e.g. "gremlin_in_the_pipes"; numbers as written
	Param     string // the parameter at fault, if the body names one
	Message   string // the body's message, at most 1 KiB, credentials redacted
	RequestID string // X-Request-Id or similar, for support tickets

	RetryAfter time.Duration // the server's wait hint; 0 when none (see HintSource for precedence)
	Hint       HintSource    // where RetryAfter came from

	Err error // the transport error, for attempts that got no response
}

// maxErrorBody bounds how much of an error response body is read to classify
// it. The bytes read are given back to the caller with the rest of the body.
const maxErrorBody = 64 << 10

// maxMessage bounds Verdict.Message.
const maxMessage = 1 << 10

// Classify says what an attempt's outcome means under this policy: resp and
// err are what an http.RoundTripper returned. For an error status it reads at
// most 64 KiB of resp.Body and replaces resp.Body with a reader that yields
// every byte of the original body, so the caller still reads it whole.
// A nil *Policy classifies with the generic rules.
func (p *Policy) Classify(resp *http.Response, err error) Verdict {
	return p.classify(resp, err, time.Now())
}

func (p *Policy) classify(resp *http.Response, err error, now time.Time) Verdict {
	if err != nil || resp == nil {
		return classifyError(err)
	}
	status := resp.StatusCode
	if status < 400 {
		return Verdict{Status: status} // success path: no body read, no header lookups
	}
	v := Verdict{Status: status, RequestID: requestID(resp.Header)}
	body := parseErrorBody(peekBody(resp))
	v.Type, v.Code, v.Param, v.Message = body.Type, body.Code, body.Param, truncate(body.Message, maxMessage)

	rule := p.rule(status, v.Code, v.Type)
	v.Class, v.Retryable = rule.Class, rule.retryable()
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get(hdrShouldRetry))) {
	case "true":
		v.Retryable = true
	case "false":
		v.Retryable = false
	}

	v.RetryAfter, v.Hint = headerHint(resp.Header, now)
	if v.Hint == NoHint && body.HasRetryAfter {
		v.RetryAfter, v.Hint = body.RetryAfter, HintBody
	}
	if v.Hint == NoHint && v.Class == RateLimited {
		if d, ok := resetHint(resp.Header, now); ok {
			v.RetryAfter, v.Hint = d, HintRateLimitReset
		}
	}
	if v.Hint == NoHint {
		if d, ok := parseMessageHint(body.Message); ok {
			v.RetryAfter, v.Hint = d, HintMessage
		}
	}
	return v
}

// classifyError classifies a transport error. Cancellation is final; so are
// the permanent failures that go-retryablehttp's DefaultRetryPolicy knows
// (untrusted certificates, unsupported schemes, invalid headers, redirect
// loops). Everything else is a Connection or Timeout failure worth retrying.
func classifyError(err error) Verdict {
	if err == nil {
		err = errors.New("llmretry: nil response and nil error")
	}
	v := Verdict{Err: err}
	switch {
	case errors.Is(err, errAttemptTimeout):
		v.Class, v.Retryable = Timeout, true
		return v
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		v.Class = Canceled
		return v
	}
	v.Class = Connection
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		v.Class = Timeout
	}
	// DefaultRetryPolicy recognises permanent errors only inside a *url.Error,
	// which http.Client adds and a RoundTripper does not; wrap as the Client would.
	var ue *url.Error
	if !errors.As(err, &ue) {
		err = &url.Error{Op: "Post", URL: "", Err: err}
	}
	v.Retryable, _ = retryablehttp.DefaultRetryPolicy(context.Background(), nil, err)
	return v
}

// rule finds the rule for an error response: the policy's code rules (code,
// then type), the generic code rules, the policy's status rules, then the
// status's own class. Codes and types match case-insensitively.
func (p *Policy) rule(status int, code, typ string) Rule {
	for _, key := range [2]string{code, typ} {
		if key == "" {
			continue
		}
		key = strings.ToLower(key)
		if p != nil {
			if r, ok := p.Codes[key]; ok {
				return r
			}
		}
		if c, ok := genericCode(key); ok {
			return Rule{Class: c}
		}
	}
	if p != nil {
		if r, ok := p.Statuses[status]; ok {
			return r
		}
	}
	return Rule{Class: statusClass(status)}
}

// genericCode maps the error codes and types that OpenAI-compatible APIs share
// to a class. Provider policies add to it and override it with Policy.Codes.
func genericCode(key string) (Class, bool) {
	switch key {
	case "rate_limit_exceeded", "rate_limit_error", "rate_limited", "too_many_requests":
		return RateLimited, true
	case "insufficient_quota", "quota_exceeded", "billing_hard_limit_reached", "insufficient_credits", "payment_required":
		return QuotaExhausted, true
	case "overloaded_error", "overloaded", "service_unavailable", "engine_overloaded":
		return Overloaded, true
	case "server_error", "internal_error", "internal_server_error", "api_error":
		return ServerError, true
	case "request_timeout", "timeout":
		return Timeout, true
	case "invalid_api_key", "authentication_error", "invalid_authentication", "unauthorized":
		return Auth, true
	case "permission_error", "permission_denied", "forbidden":
		return Permission, true
	case "context_length_exceeded", "string_above_max_length":
		return ContextLength, true
	case "content_filter", "content_policy_violation", "safety_filter_triggered":
		return ContentFiltered, true
	case "model_not_found", "not_found_error", "not_found":
		return NotFound, true
	case "conflict_error", "conflict":
		return Conflict, true
	case "invalid_request_error", "validation_error", "invalid_parameter", "bad_request":
		return InvalidRequest, true
	}
	return OK, false
}

// requestIDHeaders are the response headers that carry a request id, in order.
var requestIDHeaders = [...]string{"X-Request-Id", "Request-Id", "X-Amzn-Requestid", "Cf-Ray"}

func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return truncate(v, 128)
		}
	}
	return ""
}

// peekBody reads at most maxErrorBody bytes of resp.Body and replaces
// resp.Body with a reader that yields those bytes and then the rest.
func peekBody(resp *http.Response) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	if pb, ok := resp.Body.(*peekedBody); ok {
		return pb.prefix // classified before (e.g. CheckRetry, then Backoff): same bytes
	}
	size := int64(maxErrorBody)
	if resp.ContentLength >= 0 && resp.ContentLength < size {
		size = resp.ContentLength
	}
	// ReadAll grows its buffer as bytes arrive, so a small body of unknown
	// length does not cost a 64 KiB allocation.
	buf, err := io.ReadAll(io.LimitReader(resp.Body, size))
	pb := &peekedBody{prefix: buf, rest: resp.Body, err: err}
	resp.Body = pb
	return buf
}

// peekedBody gives back the bytes peekBody read, then the rest of the body.
type peekedBody struct {
	prefix []byte
	off    int
	err    error // a read error met while peeking, returned after prefix
	rest   io.ReadCloser
}

func (b *peekedBody) Read(p []byte) (int, error) {
	if b.off < len(b.prefix) {
		n := copy(p, b.prefix[b.off:])
		b.off += n
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *peekedBody) Close() error { return b.rest.Close() }

// errorBody is what parseErrorBody understands of an error body.
type errorBody struct {
	Type, Code, Param, Message string
	RetryAfter                 time.Duration
	HasRetryAfter              bool
}

// wireError holds the fields of the error shapes seen across providers:
//
//	{"error":{"type","code","message","param","retry_after"}}    OpenAI, SambaNova, SolidRusT, GPT-Gob
//	{"error":"message","code":"CODE","status":403,"details":{}}  Cencori
//	{"message","type","code","param"}                            top-level
//	{"type":"error","error":{"type":"overloaded_error",...}}     Anthropic
//	{"detail":"message"}                                         FastAPI-style proxies
//
// Fields are raw so that numbers, strings and nulls all decode.
type wireError struct {
	Error      json.RawMessage `json:"error"`
	Type       json.RawMessage `json:"type"`
	Code       json.RawMessage `json:"code"`
	Message    json.RawMessage `json:"message"`
	Detail     json.RawMessage `json:"detail"`
	Param      json.RawMessage `json:"param"`
	RetryAfter json.RawMessage `json:"retry_after"`
}

// parseErrorBody extracts the error facts from b; a body that is not JSON, or
// not one of the known shapes, gives an empty errorBody.
func parseErrorBody(b []byte) errorBody {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !shallowJSON(b, maxErrorDepth) {
		return errorBody{}
	}
	var top wireError
	if json.Unmarshal(b, &top) != nil {
		return errorBody{}
	}
	var eb errorBody
	var inner wireError
	if e := bytes.TrimSpace(top.Error); len(e) > 0 && e[0] == '{' && json.Unmarshal(e, &inner) == nil {
		eb.fill(&inner)
	} else {
		eb.Message = rawText(top.Error)
	}
	eb.fill(&top) // top-level fields fill what the nested object left empty
	if eb.Message == "" {
		eb.Message = rawText(top.Detail)
	}
	return eb
}

// maxErrorDepth is the deepest nesting of an error body worth parsing; real
// ones are 2 or 3 deep. Deeper bodies are not parsed at all, which keeps a
// hostile body from costing the decoder a deep parse stack.
const maxErrorDepth = 32

// shallowJSON reports whether b nests objects and arrays at most max deep.
// It does not validate b.
func shallowJSON(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// fill sets the fields of eb that are still empty from w.
func (eb *errorBody) fill(w *wireError) {
	set := func(dst *string, raw json.RawMessage) {
		if *dst == "" {
			*dst = rawText(raw)
		}
	}
	set(&eb.Type, w.Type)
	set(&eb.Code, w.Code)
	set(&eb.Param, w.Param)
	set(&eb.Message, w.Message)
	if !eb.HasRetryAfter {
		eb.RetryAfter, eb.HasRetryAfter = rawSeconds(w.RetryAfter)
	}
}

// rawText returns a JSON string's value or a JSON number's text, else "".
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// rawSeconds reads a retry_after value: a number of seconds, or a string
// holding seconds ("12", "1.5") or a Go duration ("12s").
func rawSeconds(raw json.RawMessage) (time.Duration, bool) {
	s := rawText(raw)
	if s == "" {
		return 0, false
	}
	if d, ok := parseSeconds(s); ok {
		return d, true
	}
	return parseGoDuration(s)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
