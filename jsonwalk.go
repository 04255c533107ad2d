package llmretry

import "bytes"

// jsonIter walks the elements of a JSON array or the fields of a JSON
// object without decoding or allocating. Its input must already be valid
// JSON (a value the decoder has accepted, as an Unmarshaler receives it);
// on anything else it stops early, never reading out of bounds.
type jsonIter struct {
	b []byte
	i int
}

// newJSONIter starts a walk of the array or object b.
func newJSONIter(b []byte) jsonIter {
	b = bytes.TrimSpace(b)
	if len(b) < 2 {
		return jsonIter{}
	}
	return jsonIter{b: b[:len(b)-1], i: 1} // between the brackets
}

// elem returns the next array element.
func (it *jsonIter) elem() ([]byte, bool) {
	it.skipSep()
	if it.i >= len(it.b) {
		return nil, false
	}
	start := it.i
	it.i = skipJSONValue(it.b, it.i)
	return it.b[start:it.i], it.i > start
}

// field returns the next object field: its key as written (with quotes)
// and its value.
func (it *jsonIter) field() (key, val []byte, ok bool) {
	it.skipSep()
	if it.i >= len(it.b) || it.b[it.i] != '"' {
		return nil, nil, false
	}
	start := it.i
	it.i = skipJSONValue(it.b, it.i)
	key = it.b[start:it.i]
	for it.i < len(it.b) && (isJSONSpace(it.b[it.i]) || it.b[it.i] == ':') {
		it.i++
	}
	if it.i >= len(it.b) {
		return nil, nil, false
	}
	start = it.i
	it.i = skipJSONValue(it.b, it.i)
	return key, it.b[start:it.i], it.i > start
}

func (it *jsonIter) skipSep() {
	for it.i < len(it.b) && (isJSONSpace(it.b[it.i]) || it.b[it.i] == ',') {
		it.i++
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipJSONValue returns the index just after the value that starts at b[i].
func skipJSONValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipJSONValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == ',' || c == '}' || c == ']' || isJSONSpace(c):
			return i
		}
	}
	return i
}
