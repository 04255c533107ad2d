package llmretry

import (
	"bytes"
	"io"
	"net/url"
	"reflect"
	"strings"
)

// pacesPerModel reports whether the policy's pacing keys name the request's
// model: when it configures no limit (no RequestsPerMinute, TokensPerMinute
// or MaxInFlight), what is paced is learned from the server, and providers
// limit each model on a key separately (OpenAI, Anthropic, Gemini, Groq,
// Cerebras publish per-model limits): one model's 429s and pauses must not
// hold another's requests. A configured limit is what the operator says the
// key allows, for all its models: one key paces them all.
func (p *Policy) pacesPerModel() bool {
	l := &p.Limits
	return l.RequestsPerMinute == 0 && l.TokensPerMinute == 0 && l.MaxInFlight == 0
}

// scanBody runs s over a request body: in place, allocating nothing, when
// first is an in-memory reader of it (see scanInMemory), else through a
// copy that get gives. It reports false when it read nothing.
func scanBody(s *streamFlag, first io.Reader, get func() (io.ReadCloser, error)) bool {
	if scanInMemory(s, first) {
		return true
	}
	if get == nil {
		return false
	}
	rc, err := get()
	if err != nil || rc == nil {
		return false
	}
	defer rc.Close()
	if scanInMemory(s, rc) {
		return true
	}
	h := new(streamFlag) // the reader's WriteTo keeps what it is given: not s, which stays on the stack
	*h = *s
	if wt, ok := rc.(io.WriterTo); ok {
		wt.WriteTo(h) // in place: no copy of the caller's bytes
	} else {
		io.CopyBuffer(h, rc, make([]byte, 4<<10))
	}
	*s = *h
	return true
}

// scanInMemory runs s over what is left to read of r, without reading it,
// if r is an in-memory reader (a *bytes.Reader, *bytes.Buffer or
// *strings.Reader, bare or in an io.NopCloser, which is what http.NewRequest
// makes of them); it reports false, and reads nothing, for any other. It
// allocates nothing: readers are read through ReadAt into a buffer on the
// stack.
func scanInMemory(s *streamFlag, r io.Reader) bool {
	if r == nil {
		return false
	}
	switch reflect.TypeOf(r) {
	case nopCloserType, nopCloserWriterToType:
		r, _ = reflect.ValueOf(r).Field(0).Interface().(io.Reader) // nil for io.NopCloser(nil)
	}
	var buf [4 << 10]byte
	switch b := r.(type) {
	case *bytes.Buffer:
		s.Write(b.Bytes())
	case *bytes.Reader:
		for off := b.Size() - int64(b.Len()); ; {
			n, _ := b.ReadAt(buf[:], off)
			if n == 0 {
				break
			}
			off += int64(n)
			if _, err := s.Write(buf[:n]); err != nil {
				break
			}
		}
	case *strings.Reader:
		for off := b.Size() - int64(b.Len()); ; {
			n, _ := b.ReadAt(buf[:], off)
			if n == 0 {
				break
			}
			off += int64(n)
			if _, err := s.Write(buf[:n]); err != nil {
				break
			}
		}
	default:
		return false
	}
	return true
}

// pathModel returns the model that a request's URL path names, or "":
// Gemini's and Vertex AI's .../models/<model>:<method>, Bedrock's
// /model/<id>/<operation> (an ARN's slashes escaped or not) and Azure
// OpenAI's /openai/deployments/<name>/... It is read only when the body
// names no model, and allocates nothing.
func pathModel(u *url.URL) string {
	p := u.RawPath
	if p == "" {
		p = u.Path
	}
	if i := strings.LastIndex(p, "/models/"); i >= 0 {
		m := p[i+len("/models/"):]
		if j := strings.IndexAny(m, ":/"); j >= 0 {
			m = m[:j]
		}
		return m
	}
	if i := strings.Index(p, "/model/"); i >= 0 {
		m := p[i+len("/model/"):]
		if j := strings.LastIndexByte(m, '/'); j >= 0 {
			m = m[:j] // the operation (invoke, converse…) is the last segment
		}
		return m
	}
	if i := strings.Index(p, "/deployments/"); i >= 0 {
		m := p[i+len("/deployments/"):]
		if j := strings.IndexByte(m, '/'); j >= 0 {
			m = m[:j]
		}
		return m
	}
	return ""
}
