package llmretry

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// errorBody is what parseErrorBody understands of an error body.
type errorBody struct {
	Type, Code, Param, Message string
	Status                     int // a numeric "status" member (Cencori's HTTP status), else 0
	RetryAfter                 time.Duration
	HasRetryAfter              bool

	// Reset is a rate-limit reset value found in the body (OpenRouter's
	// error.metadata.headers X-RateLimit-Reset), parsed with parseReset.
	Reset string
	// Raw is an upstream provider's own error text (OpenRouter's
	// error.metadata.raw), searched for wait phrases like the message.
	Raw string
	// Quota facts from Google's QuotaFailure and the message: the exhausted
	// quota is per day, or its limit is 0 (not available on this tier).
	DailyQuota, ZeroLimit bool
}

// wireError holds the fields of the error shapes seen across providers:
//
//	{"error":{"type","code","message","param","retry_after"}}          OpenAI, Groq, DeepSeek, Azure, SambaNova, GPT-Gob
//	{"error":"message","code":"CODE","status":N,"details":{}}        Cencori, xAI ({"code":"…","error":"…"})
//	{"object":"error","message","type","param","code"}               Mistral, Cerebras (top level)
//	{"type":"error","error":{"type","message","details":{"error_code"}}}  Anthropic
//	{"error":{"code":429,"message","status":"RESOURCE_EXHAUSTED","details":[{"@type":…}]}}  Google
//	[{"error":{…}}]                                                  Google, streaming
//	{"error":{"code":402,"message","metadata":{"headers","raw"}}}    OpenRouter
//	{"message":"…"} or {"__type":"…#ThrottlingException","message"}  AWS (with x-amzn-ErrorType)
//	{"detail":"message"}                                             FastAPI-style proxies
//	{"error":"message","error_type":"overloaded"}                    Hugging Face TGI
//	{"success":false,"errors":[{"code":3036,"message"}]}             Cloudflare's API (Workers AI)
//
// Fields are raw so that numbers, strings, objects and nulls all decode.
type wireError struct {
	Error      json.RawMessage `json:"error"`
	Type       json.RawMessage `json:"type"`
	Code       json.RawMessage `json:"code"`
	Message    json.RawMessage `json:"message"`
	Detail     json.RawMessage `json:"detail"`
	Param      json.RawMessage `json:"param"`
	RetryAfter json.RawMessage `json:"retry_after"`
	Status     json.RawMessage `json:"status"`     // Google: "RESOURCE_EXHAUSTED"
	Details    wireDetails     `json:"details"`    // Google: [{"@type",…}]; Anthropic: {"error_code"}
	Metadata   wireMetadata    `json:"metadata"`   // OpenRouter: {"headers","raw","provider_name"}
	AmzType    json.RawMessage `json:"__type"`     // AWS JSON protocols
	ErrorType  json.RawMessage `json:"error_type"` // TGI: "overloaded", "validation", "generation"
	Errors     json.RawMessage `json:"errors"`     // Cloudflare: [{"code":N,"message"}]
}

// parseErrorBody extracts the error facts from b; a body that is not JSON, or
// not one of the known shapes, gives an empty errorBody.
func parseErrorBody(b []byte) errorBody {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') || !shallowJSON(b, maxErrorDepth) {
		return errorBody{}
	}
	if b[0] == '[' {
		// Google's streaming endpoints answer an error as an array of one:
		// the first element is the error, read in place.
		if !json.Valid(b) {
			return errorBody{}
		}
		arr := newJSONIter(b)
		first, ok := arr.elem()
		if !ok || len(first) == 0 || first[0] != '{' {
			return errorBody{}
		}
		b = first
	}
	var top wireError
	if json.Unmarshal(b, &top) != nil {
		return errorBody{}
	}
	var eb errorBody
	var inner wireError
	if e := bytes.TrimSpace(top.Error); len(e) > 0 && e[0] == '{' && json.Unmarshal(e, &inner) == nil {
		eb.fill(&inner)
	} else if s := rawText(top.Error); s != "" {
		if rawText(top.Message) != "" && isCodeWord(s) {
			eb.Type = s // {"error":"rate_limit_exceeded","message":"…"}: the string is a code
		} else {
			eb.Message = s
		}
	}
	eb.fill(&top) // top-level fields fill what the nested object left empty
	if eb.Message == "" {
		eb.Message = rawText(top.Detail)
	}
	if eb.Code == "" {
		eb.Code = awsType(rawText(top.AmzType))
	}
	if eb.Type == "" {
		eb.Type = rawText(top.ErrorType)
	}
	if eb.Code == "" && eb.Message == "" {
		eb.Code, eb.Message = firstError(top.Errors)
	}
	return eb
}

// firstError reads the code and message of the first object in Cloudflare's
// "errors" array ({"success":false,"errors":[{"code":3036,"message":"…"}]});
// anything else gives "", "". The bytes were decoded already, so they are
// valid JSON and are walked in place.
func firstError(raw json.RawMessage) (code, msg string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return "", ""
	}
	arr := newJSONIter(raw)
	first, ok := arr.elem()
	if !ok || len(first) == 0 || first[0] != '{' {
		return "", ""
	}
	obj := newJSONIter(first)
	for k, v, ok := obj.field(); ok; k, v, ok = obj.field() {
		switch string(k) {
		case `"code"`:
			code = rawText(v)
		case `"message"`:
			msg = rawText(v)
		}
	}
	return code, msg
}

// maxErrorDepth is the deepest nesting of an error body worth parsing; real
// ones are 2 or 3 deep (Google's details 5). Deeper bodies are not parsed at
// all, which keeps a hostile body from costing the decoder a deep parse stack.
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
	if eb.Type == "" && isJSONString(w.Status) {
		eb.Type = rawText(w.Status) // Google's canonical status; a number is Cencori's HTTP status
	}
	if eb.Status == 0 && isJSONNumber(w.Status) {
		if n, err := strconv.Atoi(rawText(w.Status)); err == nil && n > 0 && n < 1000 {
			eb.Status = n
		}
	}
	set(&eb.Param, w.Param)
	set(&eb.Message, w.Message)
	if !eb.HasRetryAfter {
		eb.RetryAfter, eb.HasRetryAfter = rawSeconds(w.RetryAfter)
	}
	code := rawText(w.Code)
	d := &w.Details
	if d.reason != "" && (code == "" || isJSONNumber(w.Code)) {
		code = d.reason // ErrorInfo.reason says more than Google's numeric code, the HTTP status again
	}
	if code == "" {
		code = d.errorCode // Anthropic: error.details.error_code
	}
	if eb.Code == "" {
		eb.Code = code
	}
	if !eb.HasRetryAfter && d.hasDelay {
		eb.RetryAfter, eb.HasRetryAfter = d.delay, true
	}
	eb.DailyQuota = eb.DailyQuota || d.daily
	eb.ZeroLimit = eb.ZeroLimit || d.zero
	if eb.Reset == "" {
		eb.Reset = w.Metadata.reset
	}
	if eb.Raw == "" {
		eb.Raw = w.Metadata.raw
	}
}

// wireDetails is an error's "details": Google's array of typed details, or
// Anthropic's {"error_code"}. It decodes in place, without copying the
// bytes, and never fails the body: a detail it cannot read is skipped.
type wireDetails struct {
	reason, errorCode string        // ErrorInfo.reason; Anthropic's error_code
	delay             time.Duration // RetryInfo.retryDelay
	hasDelay          bool
	daily, zero       bool // QuotaFailure: a …PerDay… quota; a quota of 0
}

func (d *wireDetails) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
	case b[0] == '[':
		if bytes.Contains(b, googleRPC) {
			d.google(b)
		}
	case b[0] == '{':
		var ad struct {
			ErrorCode json.RawMessage `json:"error_code"`
		}
		if json.Unmarshal(b, &ad) == nil {
			d.errorCode = rawText(ad.ErrorCode)
		}
	}
	return nil
}

// googleRPC is in the @type of every Google detail that matters.
var googleRPC = []byte("google.rpc.")

// google reads Google's error.details: RetryInfo (retryDelay), QuotaFailure
// (violations' quotaId and quotaValue) and ErrorInfo (reason); other details,
// like Help and LocalizedMessage, are skipped. It walks the bytes in place.
func (d *wireDetails) google(b []byte) {
	arr := newJSONIter(b)
	for elem, ok := arr.elem(); ok; elem, ok = arr.elem() {
		if len(elem) == 0 || elem[0] != '{' {
			continue
		}
		var typ, retryDelay, reason, violations, metadata []byte
		obj := newJSONIter(elem)
		for k, v, ok := obj.field(); ok; k, v, ok = obj.field() {
			switch string(k) {
			case `"@type"`:
				typ = v
			case `"retryDelay"`:
				retryDelay = v
			case `"reason"`:
				reason = v
			case `"violations"`:
				violations = v
			case `"metadata"`:
				metadata = v
			}
		}
		typ = bytes.Trim(typ, `"`)
		switch {
		case bytes.HasSuffix(typ, retryInfo):
			if !d.hasDelay {
				d.delay, d.hasDelay = parseProtoDuration(rawText(retryDelay))
			}
		case bytes.HasSuffix(typ, quotaFailure) && len(violations) > 0 && violations[0] == '[':
			vs := newJSONIter(violations)
			for v, ok := vs.elem(); ok; v, ok = vs.elem() {
				if len(v) == 0 || v[0] != '{' {
					continue
				}
				f := newJSONIter(v)
				for k, val, ok := f.field(); ok; k, val, ok = f.field() {
					switch string(k) {
					case `"quotaId"`: // "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
						if containsFold(val, perDay) {
							d.daily = true
						}
					case `"quotaValue"`: // "0" on tiers without access
						if string(val) == `"0"` || string(val) == "0" {
							d.zero = true
						}
					}
				}
			}
		case bytes.HasSuffix(typ, errorInfo):
			if d.reason == "" {
				d.reason = rawText(reason)
			}
			// Google Cloud's quota errors name the limit in ErrorInfo.metadata:
			// {"quota_limit":"…PerDay…","quota_limit_value":"0",…}.
			if len(metadata) > 0 && metadata[0] == '{' {
				md := newJSONIter(metadata)
				for k, v, ok := md.field(); ok; k, v, ok = md.field() {
					switch string(k) {
					case `"quota_limit"`:
						if containsFold(v, perDay) {
							d.daily = true
						}
					case `"quota_limit_value"`:
						if string(v) == `"0"` {
							d.zero = true
						}
					}
				}
			}
		}
	}
}

var (
	retryInfo    = []byte("google.rpc.RetryInfo")
	quotaFailure = []byte("google.rpc.QuotaFailure")
	errorInfo    = []byte("google.rpc.ErrorInfo")
	perDay       = []byte("perday")
)

// containsFold reports whether b contains the lower-case ASCII sub, ignoring case.
func containsFold(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// parseProtoDuration parses a google.protobuf.Duration in its JSON form:
// seconds with up to nine fractional digits and an "s", e.g. "1.837906927s".
func parseProtoDuration(v string) (time.Duration, bool) {
	num, ok := strings.CutSuffix(v, "s")
	if !ok {
		return 0, false
	}
	return parseSeconds(num)
}

// wireMetadata is OpenRouter's error.metadata: the rate-limit headers it
// copies into the body and an upstream provider's raw error. Like
// wireDetails it decodes in place and never fails the body.
type wireMetadata struct {
	reset, raw string
}

func (m *wireMetadata) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var md struct {
		Headers map[string]json.RawMessage `json:"headers"`
		Raw     json.RawMessage            `json:"raw"`
	}
	if json.Unmarshal(b, &md) != nil {
		return nil
	}
	for k, v := range md.Headers {
		if strings.EqualFold(k, hdrRateLimitReset) {
			m.reset = rawText(v)
		}
	}
	m.raw = truncate(rawText(md.Raw), maxMessageScan)
	return nil
}

// awsType returns the exception name of an AWS error type, written as
// "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"
// (x-amzn-ErrorType) or "com.amazon.coral.service#ThrottlingException" (__type).
func awsType(v string) string {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[:i]
	}
	if i := strings.LastIndexByte(v, '#'); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// isCodeWord reports whether s looks like an error code (rate_limit_exceeded,
// RATE_LIMITED) rather than a sentence.
func isCodeWord(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isJSONNumber(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// rawText returns a JSON string's value or a JSON number's text, else "".
// raw comes from a decoded body, so it is valid JSON: a string without
// escapes is its own value, and needs no second decoding.
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && plainString(raw[1:len(raw)-1]) {
			return string(raw[1 : len(raw)-1])
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if numberChars(raw) {
			return string(raw) // a decoded number: its text as written
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// numberChars reports whether b has only the characters of a JSON number.
func numberChars(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

// plainString reports whether b, the inside of a JSON string, holds no
// escapes, quotes or control characters and is valid UTF-8: its value is b.
func plainString(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c == '"' || c < 0x20 {
			return false
		}
	}
	return utf8.Valid(b)
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
