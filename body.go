package llmretry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// defaultMaxBodyBuffer is how much of a request body without GetBody the
// Transport buffers to be able to replay it.
const defaultMaxBodyBuffer = 8 << 20

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
// and never retried. Buffering stops when ctx ends. On error req.Body is
// closed and nothing is sent. The caller's request is not modified.
func prepareBody(ctx context.Context, req *http.Request, max int64, retries bool) (replayBody, error) {
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
	if err := readBody(ctx, &buf, req.Body, max+1); err != nil {
		req.Body.Close()
		return replayBody{}, err
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

// readBody reads at most limit bytes of body into buf, or until ctx ends. A
// reader that may block is read on another goroutine: when ctx ends first,
// readBody returns ctx's error at once, and the goroutine, which alone
// touches buf from then on, ends when the reader returns (closing body, as
// the caller does next, makes most readers return).
func readBody(ctx context.Context, buf *bytes.Buffer, body io.Reader, limit int64) error {
	if ctx.Done() == nil || inMemory(body) {
		if _, err := buf.ReadFrom(io.LimitReader(body, limit)); err != nil {
			return &requestError{msg: "llmretry: reading request body", err: err}
		}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		_, err := buf.ReadFrom(io.LimitReader(body, limit))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return &requestError{msg: "llmretry: reading request body", err: err}
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The types of io.NopCloser's results, to see through them as net/http does.
var (
	nopCloserType         = reflect.TypeOf(io.NopCloser(nil))
	nopCloserWriterToType = reflect.TypeOf(io.NopCloser(strings.NewReader("")))
)

// inMemory reports whether r reads from memory and so can neither fail nor
// block: a *bytes.Reader, *bytes.Buffer or *strings.Reader, bare or in an
// io.NopCloser (which is what http.NewRequest makes of them). net/http's
// isKnownInMemoryReader does the same.
func inMemory(r io.Reader) bool {
	if r == http.NoBody {
		return true
	}
	switch reflect.TypeOf(r) {
	case nopCloserType, nopCloserWriterToType:
		r, _ = reflect.ValueOf(r).Field(0).Interface().(io.Reader) // nil for io.NopCloser(nil)
	}
	switch r.(type) {
	case *bytes.Reader, *bytes.Buffer, *strings.Reader:
		return true
	}
	return false
}

// withBody returns a shallow copy of req that sends body (net/http's
// rewindBody does the same). Headers are shared, never modified.
func withBody(req *http.Request, body io.ReadCloser) *http.Request {
	r := *req
	r.Body = body
	return &r
}

// discard closes a response that will not be returned, without reading
// more of its body: a discarded body may be a live event stream that sends
// nothing after its error event, or an error body the server stalls, and a
// retry must never wait on it. Discarded responses are error answers, whose
// body classification has read (up to 64 KiB; see peekBody), and streams
// whose first event was an error. An error body read to its end leaves its
// connection to be reused; any other is closed unread (HTTP/1 drops its
// connection, HTTP/2 resets the stream).
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	resp.Body.Close()
}

func closeBody(b io.ReadCloser) {
	if b != nil {
		b.Close()
	}
}
