package llmretry

import (
	"bytes"
	"encoding/json"
)

// replaceModel returns a copy of the JSON object body in which the value of
// every top-level "model" member is replaced by model, written as a JSON
// string. Every other byte is kept as it was: member order, spacing, escapes
// and numbers are untouched. It reports false, and returns nil, when body is
// not a valid JSON object, has no top-level "model" member, or has one whose
// value is not a string.
func replaceModel(body []byte, model string) ([]byte, bool) {
	if !json.Valid(body) || !isJSONObject(body) {
		return nil, false
	}
	enc, err := json.Marshal(model)
	if err != nil {
		return nil, false
	}
	var out []byte
	last := 0 // body[last:] is not yet copied to out
	it := newJSONIter(body)
	for {
		key, val, ok := it.field()
		if !ok {
			break
		}
		if !isKey(key, "model") {
			continue
		}
		if val[0] != '"' {
			return nil, false // not a model name: leave the body alone
		}
		start := offset(body, val)
		out = append(out, body[last:start]...)
		out = append(out, enc...)
		last = start + len(val)
	}
	if out == nil {
		return nil, false
	}
	return append(out, body[last:]...), true
}

// offset is the index in b at which sub, a subslice of b, starts.
func offset(b, sub []byte) int { return cap(b) - cap(sub) }

// isJSONObject reports whether b, trimmed, starts and ends as an object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// topLevel returns the value of the top-level member name of the JSON object
// b, or nil. b need not be valid: the walk stops at what it cannot read, and
// allocates nothing.
func topLevel(b []byte, name string) []byte {
	if !isJSONObject(b) {
		return nil
	}
	var v []byte
	it := newJSONIter(b)
	for {
		key, val, ok := it.field()
		if !ok {
			return v
		}
		if isKey(key, name) {
			v = val // the last one wins, as encoding/json decides
		}
	}
}

// modelIs reports whether the JSON object body's top-level "model" is model.
func modelIs(body []byte, model string) bool {
	v := topLevel(body, "model")
	return len(v) > 0 && v[0] == '"' && isKey(v, model) // a string value compares like a key
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
