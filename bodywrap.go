package llmretry

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// prefixReader gives back the bytes read ahead of its reader (prefix), then
// the read error met while reading them, then the rest of the body: the Read
// of peekedBody (an error body's prefix, read to classify it) and of
// streamBody (a stream's first event).
type prefixReader struct {
	rest   io.ReadCloser
	prefix []byte
	off    int   // how much of prefix has been given back
	err    error // a read error met while peeking, returned after prefix
}

func (b *prefixReader) Read(p []byte) (int, error) {
	if b.off < len(b.prefix) {
		n := copy(p, b.prefix[b.off:])
		b.off += n
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

// closeHook is a response body that, on its first Close, releases its
// attempt's context and its request's in-flight slot.
type closeHook struct {
	io.ReadCloser
	cancel context.CancelCauseFunc // nil without an attempt timeout
	pacer  *pacer                  // nil without MaxInFlight
	closed atomic.Bool
}

func (b *closeHook) Close() error {
	err := b.ReadCloser.Close()
	if b.closed.CompareAndSwap(false, true) {
		if b.cancel != nil {
			b.cancel(nil)
		}
		b.pacer.release()
	}
	return err
}

// writableCloseHook keeps a writable body writable: the body of a 101
// Switching Protocols answer is an io.ReadWriteCloser (WebSocket clients
// write to it).
type writableCloseHook struct{ closeHook }

func (b *writableCloseHook) Write(p []byte) (int, error) {
	return b.ReadCloser.(io.Writer).Write(p)
}

// onClose makes body run cancel and release p's slot when it is closed. A
// hook that has no slot to release yet (the one send made for the attempt's
// timer) gets the slot, without another wrapper. A hook with duties of its
// own to keep (a Transport's under this one) gets a wrapper.
func onClose(body io.ReadCloser, cancel context.CancelCauseFunc, p *pacer) io.ReadCloser {
	var h *closeHook
	switch b := body.(type) {
	case *closeHook:
		h = b
	case *writableCloseHook:
		h = &b.closeHook
	}
	if h != nil && h.pacer == nil && cancel == nil && !h.closed.Load() {
		h.pacer = p
		return body
	}
	if _, ok := body.(io.Writer); ok {
		return &writableCloseHook{closeHook{ReadCloser: body, cancel: cancel, pacer: p}}
	}
	return &closeHook{ReadCloser: body, cancel: cancel, pacer: p}
}

// peekedBody gives back the bytes peekBody read, then the rest of the body.
type peekedBody struct {
	prefixReader
	text  []byte // prefix, decompressed for classification
	whole bool   // prefix is all of the body
}

func (b *peekedBody) Close() error { return b.rest.Close() }

// streamBody gives back the bytes read to find a stream's first event, then
// the rest of the stream.
type streamBody struct {
	prefixReader // the bytes read from rest, given back first

	// cancel, if non-nil, releases the attempt's context on Close.
	cancel context.CancelCauseFunc

	// The first event, when it is an error: its "event:" type and its data.
	failed    bool
	eventType []byte
	data      []byte

	inline [inlineFirstEvent]byte
}

func (b *streamBody) Close() error {
	err := b.rest.Close()
	if b.cancel != nil {
		b.cancel(nil)
	}
	return err
}

// watchedBody is a request body that remembers the first error its reader
// returned: when an attempt fails because the caller's body could not be
// read, the failure is the caller's, not the network's, and no retry helps.
// An error from a read that Close interrupted is not the reader's failure:
// the Base closes the body when the connection fails, and a read blocked on
// a pipe then returns an error.
type watchedBody struct {
	io.ReadCloser
	mu     sync.Mutex // guards err and closed: the Base may read and close on its own goroutines
	err    error
	closed bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil && !b.closed {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.ReadCloser.Close()
}

// failed returns the error the body's reader returned, if any. A nil
// *watchedBody has none.
func (b *watchedBody) failed() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// multiReadCloser reads from Reader and closes closer.
type multiReadCloser struct {
	io.Reader
	closer io.Closer
}

func (m *multiReadCloser) Close() error { return m.closer.Close() }
