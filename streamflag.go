package llmretry

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
)

// wantsStream reports whether a request asks for a streamed answer: its Accept
// header names text/event-stream, or its JSON body has "stream": true (found
// without buffering the body; see streamFlag).
func wantsStream(req *http.Request, get func() (io.ReadCloser, error), maxBody int64) bool {
	for _, v := range req.Header["Accept"] {
		if strings.Contains(strings.ToLower(v), "text/event-stream") {
			return true
		}
	}
	if get == nil {
		return false
	}
	return bodyStreams(get, max(maxBody, defaultMaxBodyBuffer))
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
			s.isFlag = s.keyIsFlag()
		}
		return
	}
	if s.inKey {
		if s.keyLen < keyRoom {
			s.key[s.keyLen] = c
		}
		s.keyLen = min(s.keyLen+1, keyRoom+1)
	}
}

// keyIsFlag reports whether the member name read is "stream", however it
// is escaped (an escaped name is rare: only it costs an allocation).
func (s *streamFlag) keyIsFlag() bool {
	key := s.key[:min(s.keyLen, keyRoom)]
	switch {
	case string(key) == "stream":
		return true
	case s.keyLen > keyRoom || bytes.IndexByte(key, '\\') < 0:
		return false
	}
	q := make([]byte, 0, len(key)+2)
	return isKey(append(append(append(q, '"'), key...), '"'), "stream")
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
	}
	return true
}

// bodyStreams reports whether the JSON body that get gives has a top-level
// "stream": true, reading at most limit bytes of it and keeping none.
func bodyStreams(get func() (io.ReadCloser, error), limit int64) bool {
	rc, err := get()
	if err != nil || rc == nil {
		return false
	}
	defer rc.Close()
	s := streamFlag{left: limit}
	if wt, ok := rc.(io.WriterTo); ok {
		wt.WriteTo(&s) // in place: no copy of the caller's bytes
	} else {
		io.CopyBuffer(&s, rc, make([]byte, 4<<10))
	}
	return s.stream
}
