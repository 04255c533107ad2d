package llmretry

import (
	"bytes"
	"encoding/json"
)

// replaceModel returns a copy of the JSON object body in which the value of
// every top-level "model" member that is a string is replaced by model,
// written as a JSON string. Every other byte is kept as it was: member order,
// spacing, escapes and numbers are untouched. It reports false, and returns
// nil, when body is not a valid JSON object, has no top-level "model"
// member, or has one whose value is not a string.
func replaceModel(body []byte, model string) ([]byte, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	enc, err := json.Marshal(model)
	if err != nil {
		return nil, false
	}
	var out []byte
	last := 0 // body[last:] is not yet copied to out
	i++
	for {
		i = skipSpace(body, i)
		if body[i] == '}' {
			break
		}
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
		keyStart := i
		i = skipString(body, i)
		key := body[keyStart:i]
		i = skipSpace(body, i)
		i = skipSpace(body, i+1) // the colon
		valStart := i
		i = skipValue(body, i)
		if isModelKey(key) {
			if body[valStart] != '"' {
				return nil, false // not a model name: leave the body alone
			}
			out = append(out, body[last:valStart]...)
			out = append(out, enc...)
			last = i
		}
	}
	if out == nil {
		return nil, false
	}
	return append(out, body[last:]...), true
}

// isModelKey reports whether the JSON string key (quotes included) is "model",
// however it is escaped.
func isModelKey(key []byte) bool {
	if string(key) == `"model"` {
		return true
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == "model"
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i].
// b is valid JSON.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index after the JSON value starting at b[i].
// b is valid JSON, so nesting is counted without recursion.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i
			}
		case ',':
			if depth == 0 {
				return i
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}
