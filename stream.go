package llmretry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A successful text/event-stream answer can still fail before its first
// token: the provider sends its 200 and then an error event instead of
// content. Before such an answer is returned, the Transport reads its first
// event (at most maxFirstEvent bytes, within the attempt's bounds); if that
// event is an error, the attempt is classified like an error response and
// retried or sent to a fallback. The bytes read are given back to the caller
// unchanged, and once they are, the stream passes through untouched.

// maxFirstEvent bounds how much of an event stream is read to find its first
// event. A longer first event is not inspected: the stream is returned as is.
const maxFirstEvent = 64 << 10

// inlineFirstEvent is the room for the first event kept inside streamBody, so
// that a stream that starts normally costs one allocation.
const inlineFirstEvent = 1 << 10

// isEventStream reports whether resp is a successful server-sent event
// stream whose bytes can be read as events: not compressed (net/http
// decompresses what it asked to be compressed, and then removes the
// Content-Encoding header). Header set by net/http is canonical: direct
// lookups suffice.
func isEventStream(resp *http.Response) bool {
	if resp.StatusCode < 200 || resp.StatusCode >= 300 || resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	ct := resp.Header["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	v := ct[0]
	const sse = "text/event-stream"
	if len(v) < len(sse) || !strings.EqualFold(v[:len(sse)], sse) {
		return false
	}
	ce := resp.Header["Content-Encoding"]
	return len(ce) == 0 || ce[0] == "" || strings.EqualFold(ce[0], "identity")
}

// peekStream reads resp's event stream up to the end of its first event and
// replaces resp.Body with a streamBody that gives every byte back. It returns
// the read error that ended the stream before its first event, if any; then
// resp.Body still yields the bytes read, followed by that error. cancel, if
// non-nil, is called when the body is closed.
func peekStream(resp *http.Response, cancel context.CancelCauseFunc) error {
	sb := &streamBody{prefixReader: prefixReader{rest: resp.Body}, cancel: cancel}
	resp.Body = sb
	buf := sb.inline[:0]
	var sc sseScanner
	for empty := 0; ; {
		if len(buf) >= maxFirstEvent {
			break // too long to inspect: pass it through
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		n, err := sb.rest.Read(buf[len(buf):min(cap(buf), maxFirstEvent)])
		buf = buf[:len(buf)+n]
		if sc.scan(buf) {
			break
		}
		if err != nil {
			sb.err = err
			break
		}
		if n == 0 {
			if empty++; empty >= 100 {
				sb.err = io.ErrNoProgress
				break
			}
		}
	}
	sb.prefix = buf
	if sc.done {
		sb.eventType = buf[sc.eventStart:sc.eventEnd]
		sb.data, sb.failed = firstEventError(sb.eventType, sc.data(buf))
		return nil
	}
	if sb.err != nil && sb.err != io.EOF {
		return sb.err
	}
	return nil
}

// sseScanner finds the first event of a server-sent event stream, line by
// line, keeping its place between reads so that a stream arriving in tiny
// pieces is scanned once. An event is a block of lines ended by a blank
// line that holds at least one data field; blocks of comments (": ping") and
// other fields are skipped, as the event-stream format says.
type sseScanner struct {
	pos     int  // start of the first line not yet scanned
	seen    int  // how far past pos the line end has been searched for
	afterCR bool // the last line ended with CR: a LF right after it is part of that line end

	hasData              bool
	eventStart, eventEnd int // the event field's value in the current block
	dataStart, dataEnd   int // from the first data value to the end of the last
	dataLines            int
	done                 bool
}

// scan processes the complete lines of buf and reports whether the first
// event is complete.
func (s *sseScanner) scan(buf []byte) bool {
	if s.pos == 0 && bytes.HasPrefix(buf, []byte("\xEF\xBB\xBF")) {
		s.pos, s.seen = 3, 0 // a byte-order mark is ignored
	}
	for s.pos < len(buf) {
		if s.afterCR {
			s.afterCR = false
			if buf[s.pos] == '\n' {
				s.pos++
				continue
			}
		}
		rest := buf[s.pos:]
		i := bytes.IndexAny(rest[s.seen:], "\r\n")
		if i < 0 {
			s.seen = len(rest) // an incomplete line: wait for more
			return false
		}
		i += s.seen
		s.seen = 0
		line := rest[:i]
		start := s.pos
		s.pos += i + 1
		s.afterCR = rest[i] == '\r'
		if len(line) == 0 {
			if s.hasData {
				s.done = true
				return true
			}
			s.eventStart, s.eventEnd = 0, 0 // a block without data is not an event
			continue
		}
		if line[0] == ':' {
			continue // a comment
		}
		name, value := line, line[:0]
		vstart := start + len(line)
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			name = line[:c]
			vstart = start + c + 1
			if vstart < start+len(line) && buf[vstart] == ' ' {
				vstart++
			}
			value = buf[vstart : start+len(line)]
		}
		switch string(name) {
		case "event":
			s.eventStart, s.eventEnd = vstart, vstart+len(value)
		case "data":
			if !s.hasData {
				s.dataStart = vstart
			}
			s.hasData = true
			s.dataEnd = vstart + len(value)
			s.dataLines++
		}
	}
	return false
}

// data returns the first event's data: its data lines joined by newlines.
func (s *sseScanner) data(buf []byte) []byte {
	raw := buf[s.dataStart:s.dataEnd]
	if s.dataLines <= 1 {
		return raw
	}
	// Several data lines (rare; costs a copy): raw starts with the first
	// value, and the lines after it are whole field lines.
	var out []byte
	for first := true; ; first = false {
		i := bytes.IndexAny(raw, "\r\n")
		line := raw
		if i >= 0 {
			line = raw[:i]
		}
		if first {
			out = append(out, line...)
		} else if name, value, _ := bytes.Cut(line, []byte(":")); len(line) > 0 && string(name) == "data" {
			value, _ = bytes.CutPrefix(value, []byte(" "))
			out = append(out, '\n')
			out = append(out, value...)
		}
		if i < 0 {
			break
		}
		cr := raw[i] == '\r'
		raw = raw[i+1:]
		if cr {
			raw, _ = bytes.CutPrefix(raw, []byte("\n"))
		}
	}
	return out
}

// firstEventError reports whether an event is an error, and returns the data
// to classify it by. It knows the shapes seen across providers:
//
//	data: {"error":{"message","type","code"}}                OpenAI-compatible (GPT-Gob, OpenRouter, vLLM…)
//	event: error / data: {"type":"error","error":{…}}         Anthropic
//	data: [{"error":{"code":503,"status":"UNAVAILABLE"}}]     Gemini
//
// A normal chunk has no "error" member; the check costs one bytes.Contains.
func firstEventError(eventType, data []byte) ([]byte, bool) {
	if string(eventType) == "error" {
		return data, true
	}
	if !bytes.Contains(data, []byte(`"error"`)) {
		return nil, false
	}
	d := bytes.TrimSpace(data)
	if len(d) > 0 && d[0] == '[' {
		it := newJSONIter(d) // Gemini: an array whose first element is the error
		d, _ = it.elem()
	}
	// Only top-level members count, and looking allocates nothing: a normal
	// chunk may hold "error" deeper down (OpenAI's response.created has
	// "response":{"error":null}).
	if e := topLevel(d, "error"); len(e) > 0 && string(e) != "null" {
		return d, true
	}
	if string(topLevel(d, "type")) == `"error"` {
		return d, true
	}
	return nil, false
}

// streamVerdict classifies a stream whose first event is an error, as if the
// error had come as a response of its own. The event has no status of its
// own: an HTTP status written in the error (Gemini's code, Cencori's status)
// selects the status rules, and otherwise 500, a server-side failure.
func (p *Policy) streamVerdict(resp *http.Response, sb *streamBody, now time.Time) Verdict {
	v := Verdict{Status: resp.StatusCode, RequestID: requestID(resp.Header)}
	body := parseErrorBody(sb.data)
	if body.Message == "" && !json.Valid(bytes.TrimSpace(sb.data)) {
		body.Message = string(bytes.TrimSpace(sb.data)) // event: error with plain text data
	}
	v.Type, v.Code, v.Param, v.Message = body.Type, body.Code, body.Param, body.Message // bounded by sanitize
	status := http.StatusInternalServerError
	if n, err := strconv.Atoi(body.Code); err == nil && n >= 400 && n <= 599 {
		status = n
	} else if body.Status >= 400 && body.Status <= 599 {
		status = body.Status
	}
	rule := p.rule(status, v.Code, v.Type)
	v.Class, v.Retryable = rule.Class, rule.retryable()
	// An error event has no headers, and its hints are the body's own
	// retry_after and message (not an upstream's reset or text).
	hb := errorBody{RetryAfter: body.RetryAfter, HasRetryAfter: body.HasRetryAfter, Message: body.Message}
	v.RetryAfter, v.Hint = waitHint(nil, &hb, nil, false, now)
	return v
}

// failedStream returns the stream body of resp if its first event is an error.
func failedStream(resp *http.Response) (*streamBody, bool) {
	if resp == nil {
		return nil, false
	}
	sb, ok := resp.Body.(*streamBody)
	return sb, ok && sb.failed
}

// ErrFirstTokenTimeout is the cause of an attempt cut off by the first-token
// timeout ([Policy].FirstTokenTimeout, [WithFirstTokenTimeout]): a streaming
// answer whose first event did not arrive in time. Such an attempt is
// retried; if retries end, RoundTrip returns an error that matches it under
// errors.Is.
var ErrFirstTokenTimeout = errors.New("llmretry: no first token in time")
