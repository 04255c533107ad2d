package llmretry

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxBodyBuffer is how much of a request body without GetBody the
// Transport buffers to be able to replay it.
const DefaultMaxBodyBuffer = 8 << 20

// replayBody is how a request's body is sent on each attempt.
type replayBody struct {
	// first, if non-nil, replaces req.Body on the first attempt (the body
	// was buffered, or partly read while trying to).
	first io.ReadCloser
	// get returns a fresh copy of the body for a retry; nil when the request
	// has no body.
	get func() (io.ReadCloser, error)
	// replayable is false when the body can be sent only once.
	replayable bool
}

// prepareBody makes req's body replayable for retries: through req.GetBody if
// set, else by buffering up to max bytes. A longer body is sent once, whole,
// and never retried. On error req.Body is closed and nothing is sent.
// The caller's request is not modified.
func prepareBody(req *http.Request, max int64, retries bool) (replayBody, error) {
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		return replayBody{replayable: true}, nil
	case req.GetBody != nil:
		return replayBody{get: req.GetBody, replayable: true}, nil
	case !retries || max <= 0 || req.ContentLength > max:
		return replayBody{}, nil
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(req.Body, max+1))
	if err != nil {
		req.Body.Close()
		return replayBody{}, fmt.Errorf("llmretry: reading request body: %w", err)
	}
	if int64(buf.Len()) > max {
		// Too long to buffer: send what was read followed by the rest, once.
		return replayBody{first: &multiReadCloser{
			Reader: io.MultiReader(bytes.NewReader(buf.Bytes()), req.Body),
			closer: req.Body,
		}}, nil
	}
	req.Body.Close()
	b := buf.Bytes()
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	first, _ := get()
	return replayBody{first: first, get: get, replayable: true}, nil
}

// multiReadCloser reads from Reader and closes closer.
type multiReadCloser struct {
	io.Reader
	closer io.Closer
}

func (m *multiReadCloser) Close() error { return m.closer.Close() }

// withBody returns a shallow copy of req that sends body (net/http's
// rewindBody does the same). Headers are shared, never modified.
func withBody(req *http.Request, body io.ReadCloser) *http.Request {
	r := *req
	r.Body = body
	return &r
}

// maxDrain bounds how much of a discarded response body is read so that its
// connection can be reused.
const maxDrain = 4 << 10

// discard drains (bounded) and closes a response that will not be returned.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
}
