package llmretry

import (
	"context"
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
