package llmretry

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// errorBody is what parseErrorBody understands of an error body.
type errorBody struct {
	Type, Code, Param, Message string
	Status                     int // a numeric "status" member (Cencori), else 0
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
//	[{"error":{"code":503,"message","status":"UNAVAILABLE"}}]     Gemini (the first element counts)
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
	Status     json.RawMessage `json:"status"`
}

// parseErrorBody extracts the error facts from b; a body that is not JSON, or
// not one of the known shapes, gives an empty errorBody.
func parseErrorBody(b []byte) errorBody {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		b = firstElement(b)
	}
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
	if eb.Status == 0 {
		if n, err := strconv.Atoi(rawText(w.Status)); err == nil && n > 0 && n < 1000 {
			eb.Status = n
		}
	}
}

// firstElement returns the first element of the JSON array b, or nil. The
// element is not validated; b is not either beyond what finding it takes.
func firstElement(b []byte) []byte {
	i := skipSpace(b, 1)
	if i >= len(b) || b[i] == ']' {
		return nil
	}
	return b[i:skipValue(b, i)]
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
