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
	enc, err := json.Marshal(model)
	if err != nil {
		return nil, false
	}
	var out []byte
	last := 0 // body[last:] is not yet copied to out
	found, bad := false, false
	ok := walkObject(body, func(key []byte, valStart, valEnd int) bool {
		if !isKey(key, "model") {
			return true
		}
		if body[valStart] != '"' {
			bad = true // not a model name: leave the body alone
			return false
		}
		out = append(out, body[last:valStart]...)
		out = append(out, enc...)
		last, found = valEnd, true
		return true
	})
	if !ok || bad || !found {
		return nil, false
	}
	return append(out, body[last:]...), true
}

// walkObject calls visit with the key (quotes included) and the value's
// bounds of every top-level member of the JSON object b, in order, until
// visit returns false. It reports false if b is not an object or is
// malformed as far as it was walked; it never reads out of bounds, whatever
// b holds, and allocates nothing.
func walkObject(b []byte, visit func(key []byte, valStart, valEnd int) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		keyStart := i
		var ok bool
		if i, ok = skipString(b, i); !ok {
			return false
		}
		key := b[keyStart:i]
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return false
		}
		if i = skipSpace(b, i+1); i >= len(b) {
			return false
		}
		valStart := i
		if i = skipValue(b, i); i <= valStart {
			return false
		}
		if !visit(key, valStart, i) {
			return true
		}
		if i = skipSpace(b, i); i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return false
		}
	}
	return false
}

// modelIs reports whether the JSON object body's top-level "model" is model.
func modelIs(body []byte, model string) bool {
	is := false
	walkObject(body, func(key []byte, vs, ve int) bool {
		if isKey(key, "model") {
			is = isKey(body[vs:ve], model) // a string value compares like a key
		}
		return true
	})
	return is
}

// isKey reports whether the JSON string key (quotes included) is name,
// however it is escaped.
func isKey(key []byte, name string) bool {
	if len(key) == len(name)+2 && string(key[1:len(key)-1]) == name {
		return true
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == name
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

// skipString returns the index after the JSON string starting at b[i], and
// false if the string is not terminated.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return len(b), false
}

// skipValue returns the index after the JSON value starting at b[i],
// counting nesting without recursion. It does not validate the value; on
// malformed input it returns some index in [i, len(b)].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i, _ = skipString(b, i)
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
