package llmretry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// finish returns the last attempt's outcome to the caller: a, the attempt
// and the decision that ended the call.
func (t *Transport) finish(c *call, resp *http.Response, a AttemptInfo, now time.Time) (*http.Response, error) {
	v := a.Verdict
	if resp == nil {
		c.release()
		r, why := c.stopped(a, now)
		return nil, afterRetries(v.Err, a.Attempt, now.Sub(c.began), r, &why)
	}
	if resp.StatusCode >= 400 || v.Class != ClassOK {
		e := newAPIError(c.pol, v, a.Attempt)
		e.Target = c.name
		e.Decision, e.why = c.stopped(a, now)
		if t.ReturnErrors {
			discard(resp)
			c.release()
			return nil, e
		}
		attachError(resp, e)
	}
	if c.away && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// http.Client would follow it with the caller's request, copying
		// the headers that hold the first endpoint's key (all but
		// Authorization and Cookie across hosts) and a Referer with its
		// query: to another endpoint's Location, or a host it names.
		// Without a Location, the client returns the answer as it is.
		resp.Header.Del("Location")
	}
	if c.pacer.holdsSlots() && !c.freed {
		c.freed = true
		resp.Body = onClose(resp.Body, nil, c.pacer)
	}
	return resp, nil
}

// final is the decision that ends a call with a's answer: d if it is one
// of the stopping decisions, else DecisionSuccess (no reason to give).
func final(d Decision) Decision {
	switch d {
	case DecisionNotRetryable, DecisionRetriesExhausted, DecisionHintTooLong, DecisionPastDeadline,
		DecisionBudgetExhausted, DecisionContextDone, DecisionNotReplayable:
		return d
	}
	return DecisionSuccess
}

// stopped says why the call stops after attempt a, decided at now.
func (c *call) stopped(a AttemptInfo, now time.Time) (Decision, stop) {
	reason, s := final(a.Decision), stop{}
	switch a.Decision {
	case DecisionHintTooLong:
		s.wait, s.limit = a.Wait, c.pol.maxWait()
	case DecisionPastDeadline:
		s.wait = a.Wait
		if deadline, ok := c.ctx.Deadline(); ok {
			s.limit = max(deadline.Sub(now), 0)
		}
	case DecisionContextDone:
		s.ctxErr = c.ctx.Err()
	}
	if c.wantsFallback(a.Verdict, a.Decision) && c.next >= len(c.fallbacks) {
		s.last, reason = reason, DecisionFallbacksExhausted
	}
	return reason, s
}

// stop is why a Transport stopped, with the figures that explain it.
type stop struct {
	last   Decision      // under DecisionFallbacksExhausted: why the last target stopped
	wait   time.Duration // the wait refused (DecisionHintTooLong, DecisionPastDeadline)
	limit  time.Duration // MaxWait (DecisionHintTooLong), or the time left before the deadline (DecisionPastDeadline)
	ctxErr error         // the context's error (DecisionContextDone)
}

// writeStop appends e's stop clause to b, e.g. "not retried: server asked
// for 3m0s, over MaxWait 2m0s" or "stopped after 3 attempts: retries
// exhausted". Without a reason, it says only how many attempts were made.
func (e *APIError) writeStop(b *strings.Builder) {
	if e.Decision == DecisionSuccess {
		if e.Attempts > 1 {
			b.WriteString(" after ")
			b.WriteString(strconv.Itoa(e.Attempts))
			b.WriteString(" attempts")
		}
		return
	}
	if e.Attempts > 1 {
		b.WriteString(": stopped after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts: ")
	} else {
		b.WriteString(": not retried: ")
		if e.Decision == DecisionRetriesExhausted {
			b.WriteString("no retry allowed (MaxRetries or WithMaxRetries)")
			return
		}
	}
	b.WriteString(e.why.text(e.Decision))
}

// text explains reason r in a few words, with the figures of s.
func (s *stop) text(r Decision) string {
	switch r {
	case DecisionNotRetryable:
		return "the answer is permanent"
	case DecisionRetriesExhausted:
		return "retries exhausted"
	case DecisionHintTooLong:
		if s.wait > 0 && s.limit > 0 {
			return "server asked for " + s.wait.String() + ", over MaxWait " + s.limit.String()
		}
		return "the server's wait is over MaxWait"
	case DecisionPastDeadline:
		if s.wait > 0 {
			return "a wait of " + s.wait.String() + " would pass the deadline, " + s.limit.Round(time.Millisecond).String() + " away"
		}
		return "the next attempt would start after the deadline"
	case DecisionBudgetExhausted:
		return "retry budget exhausted"
	case DecisionContextDone:
		if s.ctxErr != nil {
			return s.ctxErr.Error()
		}
		return "the request's context ended"
	case DecisionNotReplayable:
		return "the request body cannot be sent again"
	case DecisionFallbacksExhausted:
		if s.last == DecisionSuccess || s.last == DecisionFallbacksExhausted {
			return "no fallback left"
		}
		return "no fallback left; the last target: " + s.text(s.last)
	}
	return r.String()
}
