package llmretry

import (
	"bytes"
	"errors"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
)

// acceptsStream reports whether the request's Accept header names
// text/event-stream.
func acceptsStream(req *http.Request) bool {
	for _, v := range req.Header["Accept"] {
		if strings.Contains(strings.ToLower(v), "text/event-stream") {
			return true
		}
	}
	return false
}

// streamFlag finds whether a JSON object's top-level "stream" member is true
// in a body written to it piece by piece (io.Writer, io.StringWriter), keeping
// nothing of the body but a short key: a request body is never buffered, or
// copied, to learn whether it asks for a stream. Fed by a strings.Reader's,
// bytes.Reader's or bytes.Buffer's WriteTo, it reads the caller's bytes in
// place. The last "stream" member wins, as encoding/json decides. The body
// need not be valid JSON: the scan reads what it can and never fails.
type streamFlag struct {
	left int64 // bytes the scan may still read; then it stops

	started bool // the first non-space byte was read
	depth   int  // nesting: 1 inside the top-level object
	inStr   bool // inside a string
	esc     bool // inside a string, after a backslash
	wantKey bool // at depth 1, the next string is a member's name

	inKey   bool // the string is a top-level member's name
	key     [keyRoom]byte
	keyLen  int  // bytes of the name in key; keyRoom+1 once too long
	isFlag  bool // the member being read is "stream"
	inValue bool // reading the "stream" member's scalar value
	val     [4]byte
	valLen  int // bytes of the value in val; 5 once it is not "true"

	stream bool // the last top-level "stream" member seen is true

	// With models set, the scan also reads the last top-level "model"
	// member whose value is a string (see modelScan).
	models  bool
	isModel bool // the member being read is "model"
	mNext   bool // after the "model" member's colon, before its value
	inModel bool // inside the "model" member's string value
	model   modelScan
}

// modelRoom is how much of a model's name a scan keeps for the pacing key's
// string; a longer name is kept as its start and a hash of the whole.
const modelRoom = 128

// modelScan is the model a request names: the raw bytes of the body's
// top-level "model" string (as written, escapes included), or the model in
// its URL path. It keeps a seeded hash of the name, which tells models
// apart in the process, and the name's first modelRoom bytes with an FNV-1a
// hash of the whole, for the Limiter's key, which must be the same in every
// process. Reading it allocates nothing.
type modelScan struct {
	has  bool
	hash maphash.Hash
	fnv  uint64
	n    int // the name's length
	name [modelRoom]byte
}

// start begins a name, seeded with seed.
func (m *modelScan) start(seed maphash.Seed) {
	m.has, m.n, m.fnv = false, 0, fnvOffset
	m.hash.SetSeed(seed) // resets it
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// write adds b to the name.
func (m *modelScan) write(b []byte) {
	m.hash.Write(b)
	if m.n < modelRoom {
		copy(m.name[m.n:], b)
	}
	m.n += len(b)
	for _, c := range b {
		m.fnv = (m.fnv ^ uint64(c)) * fnvPrime
	}
}

// writeByte adds c to the name.
func (m *modelScan) writeByte(c byte) {
	m.hash.WriteByte(c)
	if m.n < modelRoom {
		m.name[m.n] = c
	}
	m.n++
	m.fnv = (m.fnv ^ uint64(c)) * fnvPrime
}

// writeString adds s to the name.
func (m *modelScan) writeString(s string) {
	m.hash.WriteString(s)
	if m.n < modelRoom {
		copy(m.name[m.n:], s)
	}
	m.n += len(s)
	for i := 0; i < len(s); i++ {
		m.fnv = (m.fnv ^ uint64(s[i])) * fnvPrime
	}
}

// String is the name for a pacing key: the name itself, or, when it is
// longer than modelRoom, its start, '~' and the FNV-1a of the whole in hex.
// ASCII control characters become '_'.
func (m *modelScan) String() string {
	b := m.name[:min(m.n, modelRoom)]
	long := m.n > modelRoom
	if long {
		b = b[:modelRoom-17]
	}
	out := make([]byte, 0, modelRoom)
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			c = '_'
		}
		out = append(out, c)
	}
	if long {
		out = append(out, '~')
		out = strconv.AppendUint(out, m.fnv, 16)
	}
	return string(out)
}

// keyRoom is the longest member name kept: "stream", however it is escaped
// (\u0073\u0074… is 36 bytes).
const keyRoom = 36

// errScanned ends a streamFlag scan early: the object or the bound ended.
var errScanned = errors.New("llmretry: scanned")

// Write reads p, the next piece of the body.
func (s *streamFlag) Write(p []byte) (int, error) {
	n := len(p)
	if int64(n) > s.left {
		n = int(s.left)
	}
	s.left -= int64(n)
	for i := 0; i < n; i++ {
		if s.inStr && !s.inKey && !s.esc {
			// Fast through a string's text: only its end and escapes matter.
			j := bytes.IndexByte(p[i:n], '"')
			if j < 0 {
				j = n - i
			}
			if k := bytes.IndexByte(p[i:i+j], '\\'); k >= 0 {
				j = k
			}
			if s.inModel {
				s.model.write(p[i : i+j])
			}
			if i += j; i == n {
				break
			}
		}
		if s.inStr {
			s.stringByte(p[i])
		} else if !s.byteOutside(p[i]) {
			return i + 1, errScanned
		}
	}
	if n < len(p) {
		return n, errScanned
	}
	return n, nil
}

// WriteString reads p, the next piece of the body, through a small buffer
// (strings.Reader's WriteTo gives its whole string in one call).
func (s *streamFlag) WriteString(p string) (int, error) {
	var buf [4 << 10]byte
	done := 0
	for done < len(p) {
		k := copy(buf[:], p[done:])
		n, err := s.Write(buf[:k])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// stringByte reads byte c of a string.
func (s *streamFlag) stringByte(c byte) {
	switch {
	case s.esc:
		s.esc = false
	case c == '\\':
		s.esc = true
	case c == '"':
		s.inStr = false
		if s.inKey {
			s.inKey = false
			s.isFlag = s.keyIs("stream")
			s.isModel = s.models && s.keyIs("model")
		}
		if s.inModel {
			s.inModel = false
			s.model.has = true
		}
		return
	}
	if s.inKey {
		if s.keyLen < keyRoom {
			s.key[s.keyLen] = c
		}
		s.keyLen = min(s.keyLen+1, keyRoom+1)
	}
	if s.inModel {
		s.model.writeByte(c)
	}
}

// keyIs reports whether the member name read is name, however it is
// escaped (an escaped name is rare: only it costs an allocation).
func (s *streamFlag) keyIs(name string) bool {
	key := s.key[:min(s.keyLen, keyRoom)]
	switch {
	case string(key) == name:
		return true
	case s.keyLen > keyRoom || bytes.IndexByte(key, '\\') < 0:
		return false
	}
	q := make([]byte, 0, len(key)+2)
	return isKey(append(append(append(q, '"'), key...), '"'), name)
}

// byteOutside reads byte c outside any string; it reports false when the
// scan is over (the body is not an object, or the object ended).
func (s *streamFlag) byteOutside(c byte) bool {
	space := c == ' ' || c == '\t' || c == '\n' || c == '\r'
	if !s.started {
		if space {
			return true
		}
		s.started = true
		if c != '{' {
			return false // not an object: no "stream" member
		}
		s.depth, s.wantKey = 1, true
		return true
	}
	if s.inValue {
		if space && s.valLen == 0 {
			return true // before the value
		}
		if !space && c != ',' && c != '}' && c != '"' && c != '{' && c != '[' {
			if s.valLen < len(s.val) {
				s.val[s.valLen] = c
			}
			s.valLen = min(s.valLen+1, len(s.val)+1)
			return true
		}
		s.inValue = false
		s.stream = string(s.val[:min(s.valLen, len(s.val))]) == "true" && s.valLen == len(s.val)
		s.isFlag = false
	}
	if s.mNext && !space {
		s.mNext = false
		if c == '"' { // a model's name; any other value names none
			s.inModel = true
			s.model.start(s.model.hash.Seed())
		}
	}
	switch c {
	case '"':
		s.inStr = true
		if s.depth == 1 && s.wantKey {
			s.inKey, s.keyLen, s.wantKey = true, 0, false
		}
	case '{', '[':
		s.depth++
	case '}', ']':
		if s.depth--; s.depth == 0 {
			return false
		}
	case ',':
		if s.depth == 1 {
			s.wantKey = true
		}
	case ':':
		if s.depth == 1 && s.isFlag {
			s.inValue, s.valLen = true, 0
			s.stream = false // a value other than true replaces an earlier true
		}
		if s.depth == 1 && s.isModel {
			s.mNext = true
			s.model.has = false // a value other than a string replaces an earlier name
		}
	}
	return true
}
