package llmretry

import (
	"context"
	"net/http"
	"time"
)

// sendBounded makes one attempt within bounds b: the attempt timeout bounds
// the headers and then an error's body prefix or a stream's first event; the
// first-token timeout bounds a stream's first event, and the headers of a
// request that asks for a stream. Both count from the start of the attempt.
func (t *Transport) sendBounded(base http.RoundTripper, r *http.Request, b bounds) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(r.Context())
	start := time.Now()
	hd, hcause := b.attempt, errAttemptTimeout
	if b.stream {
		hd, hcause = b.streamBound()
	}
	var timer *time.Timer
	if hd > 0 {
		timer = time.AfterFunc(hd, func() { cancel(hcause) })
	}
	resp, err := base.RoundTrip(r.WithContext(ctx))
	if err == nil {
		switch {
		case resp.StatusCode >= 400:
			// An error answer is classified from its body's first bytes: read
			// them within the bound, so a body that stalls counts as a timeout.
			peekBody(resp)
		case isEventStream(resp):
			if sd, scause := b.streamBound(); sd != hd || scause != hcause {
				if timer == nil || timer.Stop() {
					timer = time.AfterFunc(max(sd-time.Since(start), 0), func() { cancel(scause) })
				}
			}
			err = peekStream(resp, nil)
		}
	}
	if timer != nil && !timer.Stop() && err == nil {
		// The bound passed as the answer arrived: its body is cut off.
		err = context.Cause(ctx)
	}
	if err != nil {
		if c := context.Cause(ctx); (c == errAttemptTimeout || c == ErrFirstTokenTimeout) && r.Context().Err() == nil {
			d := b.attempt
			if c == ErrFirstTokenTimeout {
				d = b.firstToken
			}
			err = &attemptTimeoutError{timeout: d, cause: c, err: err}
		}
		if resp != nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, err
	}
	if sb, ok := resp.Body.(*streamBody); ok {
		sb.cancel = cancel // one wrapper for both jobs
	} else {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	}
	return resp, nil
}

// streamBound is the bound on a stream's first event, and its cause: the
// shorter of the attempt and first-token timeouts.
func (b bounds) streamBound() (time.Duration, error) {
	if b.firstToken > 0 && (b.attempt <= 0 || b.firstToken < b.attempt) {
		return b.firstToken, ErrFirstTokenTimeout
	}
	return b.attempt, errAttemptTimeout
}
