package llmretry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// sendBounded makes one attempt within bounds b: the attempt timeout bounds
// the headers and then an error's body prefix or a stream's first event; the
// first-token timeout bounds a stream's first event, and the headers of a
// request that asks for a stream. Both count from the start of the attempt.
// An attempt whose timer fired is a timeout even if an answer came: its
// context is cancelled, and so is that answer's body.
func (t *Transport) sendBounded(r *http.Request, b bounds) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(r.Context())
	start := time.Now() // the runtime's clock, as its timers are: a fake clock stands still during an attempt
	hd, hcause := b.attempt, errAttemptTimeout
	if b.stream {
		hd, hcause = b.streamBound()
	}
	var timer *time.Timer
	if hd > 0 {
		timer = time.AfterFunc(hd, func() { cancel(hcause) })
	}
	resp, err := checkAnswer(t.base().RoundTrip(r.WithContext(ctx)))
	if err != nil {
		fired := timer != nil && !timer.Stop()
		cancel(nil)
		if fired && r.Context().Err() == nil {
			return nil, b.timeoutError(ctx, err)
		}
		return nil, err
	}
	if isEventStream(resp) {
		if sd, scause := b.streamBound(); sd != hd || scause != hcause {
			if timer == nil || timer.Stop() {
				timer = time.AfterFunc(max(sd-time.Since(start), 0), func() { cancel(scause) })
			}
		}
		// The streamBody releases the context: no second wrapper, and
		// failedStream finds it.
		err = peekStream(resp, cancel)
	} else {
		resp.Body = onClose(resp.Body, cancel, nil)
		if resp.StatusCode >= 400 {
			// An error answer is classified from its body's first bytes: read
			// them within the bound, so a body that stalls counts as a timeout.
			peekBody(resp)
		}
	}
	// The bound is on the headers (and an error's prefix, or a stream's first
	// event); a success's body may take its time.
	if timer != nil && !timer.Stop() && r.Context().Err() == nil {
		if pb, ok := resp.Body.(*peekedBody); ok && pb.whole {
			pb.err = io.EOF // an error answer read whole in time: its connection is gone, not its bytes
			return resp, nil
		}
		resp.Body.Close()
		return nil, b.timeoutError(ctx, err)
	}
	if err != nil {
		resp.Body.Close() // a stream that failed before its first event
		return nil, err
	}
	return resp, nil
}

// timeoutError is the error of an attempt whose bound fired, with what the
// attempt got (err, possibly nil); ctx's cause says which bound.
func (b bounds) timeoutError(ctx context.Context, err error) error {
	if context.Cause(ctx) == ErrFirstTokenTimeout {
		return &attemptTimeoutError{timeout: b.firstToken, cause: ErrFirstTokenTimeout, err: err}
	}
	return &attemptTimeoutError{timeout: b.attempt, err: err}
}

// streamBound is the bound on a stream's first event, and its cause: the
// shorter of the attempt and first-token timeouts.
func (b bounds) streamBound() (time.Duration, error) {
	if b.firstToken > 0 && (b.attempt <= 0 || b.firstToken < b.attempt) {
		return b.firstToken, ErrFirstTokenTimeout
	}
	return b.attempt, errAttemptTimeout
}

// send makes one attempt within bounds b. A successful event stream is
// returned only once its first event has been read (see peekStream).
func (t *Transport) send(r *http.Request, b bounds) (*http.Response, error) {
	if b.attempt <= 0 && b.firstToken <= 0 {
		resp, err := checkAnswer(t.base().RoundTrip(r))
		if err == nil && isEventStream(resp) {
			if err := peekStream(resp, nil); err != nil {
				resp.Body.Close()
				return nil, err
			}
		}
		return resp, err
	}
	return t.sendBounded(r, b)
}

// checkAnswer holds a Base to the RoundTripper contract: a response or an
// error, a response with a body.
func checkAnswer(resp *http.Response, err error) (*http.Response, error) {
	switch {
	case err != nil:
		if resp != nil {
			closeBody(resp.Body)
		}
		return nil, err
	case resp == nil:
		return nil, errors.New("llmretry: Base returned a nil response and a nil error")
	case resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, nil
}

// attemptTimeoutError is an attempt cut off by the attempt timeout, or by
// the first-token timeout (cause ErrFirstTokenTimeout).
type attemptTimeoutError struct {
	timeout time.Duration
	cause   error // errAttemptTimeout (if nil) or ErrFirstTokenTimeout
	err     error // what the attempt got when it was cut off; may be nil
}

func (e *attemptTimeoutError) Error() string {
	msg := "llmretry: attempt timed out after " + e.timeout.String()
	if e.cause == ErrFirstTokenTimeout {
		msg = "llmretry: no first token after " + e.timeout.String()
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *attemptTimeoutError) Unwrap() []error {
	cause := e.cause
	if cause == nil {
		cause = errAttemptTimeout
	}
	if e.err == nil {
		return []error{cause}
	}
	return []error{cause, e.err}
}

func (e *attemptTimeoutError) Timeout() bool { return true }
