package llmretry

import (
	"strconv"
	"strings"
	"time"
)

// StopReason says why the [Transport] stopped retrying a request and
// returned the answer it had: [APIError].Stop. The zero value, StopNone,
// means unknown: the APIError did not come from a Transport ([ParseError] of
// a response that another client returned).
//
// Its values match the final [Decision] of the last attempt, and add
// StopFallbacksExhausted.
type StopReason uint8

const (
	StopNone               StopReason = iota // not stopped by a Transport: unknown
	StopNotRetryable                         // the answer is permanent: no retry can change it
	StopRetriesExhausted                     // MaxRetries reached
	StopHintTooLong                          // the server asked to wait longer than MaxWait
	StopPastDeadline                         // the wait before the next attempt would end after the context's deadline
	StopBudgetExhausted                      // the retry budget is spent (a wide outage)
	StopContextDone                          // the request's context ended
	StopNotReplayable                        // the request body cannot be sent again
	StopFallbacksExhausted                   // the answer called for the next fallback target, and none was left (or none fit the request)
)

var stopNames = [...]string{"", "not_retryable", "retries_exhausted", "hint_too_long", "past_deadline", "budget_exhausted", "context_done", "not_replayable", "fallbacks_exhausted"}

// String returns the reason's name, e.g. "hint_too_long"; "" for StopNone.
func (s StopReason) String() string {
	if int(s) < len(stopNames) {
		return stopNames[s]
	}
	return "unknown"
}

// stopReason is the reason a final decision d gives.
func stopReason(d Decision) StopReason {
	switch d {
	case DecisionNotRetryable:
		return StopNotRetryable
	case DecisionRetriesExhausted:
		return StopRetriesExhausted
	case DecisionHintTooLong:
		return StopHintTooLong
	case DecisionPastDeadline:
		return StopPastDeadline
	case DecisionBudgetExhausted:
		return StopBudgetExhausted
	case DecisionContextDone:
		return StopContextDone
	case DecisionNotReplayable:
		return StopNotReplayable
	}
	return StopNone
}

// stopped says why the call stops after attempt a, decided at now.
func (c *call) stopped(a AttemptInfo, now time.Time) (StopReason, stop) {
	reason, s := stopReason(a.Decision), stop{}
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
	if len(c.fallbacks) > 0 && c.next >= len(c.fallbacks) && c.body.replayable && c.primary.FallbackOn.shouldFallback(a.Verdict, a.Decision) {
		s.last, reason = reason, StopFallbacksExhausted
	}
	return reason, s
}

// stop is why a Transport stopped, with the figures that explain it.
type stop struct {
	last   StopReason    // under StopFallbacksExhausted: why the last target stopped
	wait   time.Duration // the wait refused (StopHintTooLong, StopPastDeadline)
	limit  time.Duration // MaxWait (StopHintTooLong), or the time left before the deadline (StopPastDeadline)
	ctxErr error         // the context's error (StopContextDone)
}

// writeStop appends e's stop clause to b, e.g. "not retried: server asked
// for 2m0s, over MaxWait 1m0s" or "stopped after 3 attempts: retries
// exhausted". Without a reason, it says only how many attempts were made.
func (e *APIError) writeStop(b *strings.Builder) {
	if e.Stop == StopNone {
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
		if e.Stop == StopRetriesExhausted {
			b.WriteString("no retry allowed (MaxRetries, WithMaxRetries or WithoutRetry)")
			return
		}
	}
	b.WriteString(e.why.text(e.Stop))
}

// text explains reason r in a few words, with the figures of s.
func (s *stop) text(r StopReason) string {
	switch r {
	case StopNotRetryable:
		return "the answer is permanent"
	case StopRetriesExhausted:
		return "retries exhausted"
	case StopHintTooLong:
		if s.wait > 0 && s.limit > 0 {
			return "server asked for " + s.wait.String() + ", over MaxWait " + s.limit.String()
		}
		return "the server's wait is over MaxWait"
	case StopPastDeadline:
		if s.wait > 0 {
			return "a wait of " + s.wait.String() + " would pass the deadline, " + s.limit.Round(time.Millisecond).String() + " away"
		}
		return "the next attempt would start after the deadline"
	case StopBudgetExhausted:
		return "retry budget exhausted"
	case StopContextDone:
		if s.ctxErr != nil {
			return s.ctxErr.Error()
		}
		return "the request's context ended"
	case StopNotReplayable:
		return "the request body cannot be sent again"
	case StopFallbacksExhausted:
		if s.last == StopNone || s.last == StopFallbacksExhausted {
			return "no fallback left"
		}
		return "no fallback left; the last target: " + s.text(s.last)
	}
	return r.String()
}
