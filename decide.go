package llmretry

import (
	"context"
	"io"
	"math"
	"net/http"
	"time"
)

// Decision is what the Transport did after an attempt ([AttemptInfo].Decision),
// and on an [APIError] the decision that ended the call: why the Transport
// stopped and returned that answer ([APIError].Decision).
type Decision uint8

const (
	DecisionSuccess            Decision = iota // the response is not an error: returned
	DecisionRetry                              // another attempt follows after Wait
	DecisionNotRetryable                       // the answer is not worth retrying: returned
	DecisionRetriesExhausted                   // MaxRetries reached: the last answer is returned
	DecisionHintTooLong                        // the server asked to wait longer than MaxWait: returned now
	DecisionPastDeadline                       // the wait would end after the context's deadline: returned now
	DecisionNotReplayable                      // the request body cannot be sent again: returned
	DecisionBudgetExhausted                    // the retry budget is spent and the deadline comes before a turn to retry (a wide outage): returned
	DecisionContextDone                        // the caller's context ended or its deadline passed
	DecisionFallback                           // the next attempt goes to the next fallback target, at once
	DecisionFallbacksExhausted                 // only on APIError: the answer called for the next fallback target, and none was left (or none fit the request)
)

var decisionNames = [...]string{"success", "retry", "not_retryable", "retries_exhausted", "hint_too_long", "past_deadline", "not_replayable", "budget_exhausted", "context_done", "fallback", "fallbacks_exhausted"}

// String returns the decision's name, e.g. "retries_exhausted".
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "unknown"
}

// decide answers "what now, and why?" after attempt a, whose answer is resp
// (a.Verdict classifies it), made at now: retry on the same target, fall
// back to the next target, or return. It is the one place that chooses: it
// weighs the attempt on its own target (onTarget: the verdict, the retry
// limit, the body, the hint, the deadline, the retry budget), then moves the
// call to a fallback when the policy says so and one can send in time, or
// waits for the budget's turn when the retry was held. It sets a.Decision
// and a.Wait (the wait before the next attempt, the wait refused, or the
// time waited for the budget), and returns what the loop needs to act on it.
func (t *Transport) decide(c *call, resp *http.Response, a *AttemptInfo, now time.Time) step {
	v := a.Verdict
	var s step
	var held bool
	switch { // an SDK's clock: it sleeps after each answer
	case c.tries == 1:
		c.first = now
	case !c.extra:
		c.first = c.first.Add(a.Elapsed)
	}
	c.extra = false
	a.Decision, a.Wait, s.next, held = t.onTarget(c, v, c.tries, now)
	if a.Decision == DecisionRetry && !c.moving {
		a.Wait = c.pacer.hintWait(resp, v, a.Wait, now)
	}
	s.wait, s.at = a.Wait, now
	if a.Decision == DecisionRetry && !c.moving && !held {
		s.since, s.watch = c.pacer.retryWake(v, now)
		s.wakes = s.watch && c.mayWake(c.tries)
	}
	to, first, fellBack, err := t.fallback(c, v, a.Decision, a.Attempt+1)
	switch {
	case err != nil: // the context ended while a fallback waited for its pacing
		closeBody(s.next)
		a.Decision, a.Wait = DecisionContextDone, 0
		return step{at: now, err: err}
	case fellBack:
		closeBody(s.next)
		a.Decision, a.Wait = DecisionFallback, 0
		return step{next: first, to: to, at: now}
	case held: // the budget did not pay: wait for a turn, the answer kept
		if s.next, err = t.awaitTurn(c, resp, a, s.next); err != nil {
			// Canceled in line: the attempt is reported all the same,
			// before its answer is discarded (an Observer may end its
			// span when the body is closed).
			a.Decision, a.Wait = DecisionContextDone, 0
			return step{at: t.clock(), err: err}
		}
		s.wait = 0
	}
	return s
}

// step is what the RoundTrip loop does after a decision: report the attempt
// at at, then end with err, or send the next attempt with body next, after
// wait (a retry) or at once on target to (a fallback).
type step struct {
	next io.ReadCloser // the next attempt's body
	to   route         // the target entered (DecisionFallback)
	wait time.Duration // the wait before a retry
	at   time.Time     // when the attempt is reported
	err  error         // the context's, ended while the decision waited: the call ends with it

	// watch: the key's accepted answers are noted for ticket since
	// (pacer.retryWake), so that the retry knows whether the server
	// accepted an attempt sent after the refused one (call.again); wakes:
	// the wait ends early once it does.
	since        uint64
	watch, wakes bool
}

// onTarget is the decision on the call's own target, before any fallback:
// it weighs the verdict, the retry limit, the body's replayability, the
// server's hint against MaxWait, the deadline and the retry budget, and
// rewinds the body for the retry. It returns the decision, the wait before a
// retry (or the wait refused, for HintTooLong and PastDeadline), the retry's
// body, and whether the retry, which the budget did not pay for, waits for
// its turn (held; see RetryBudget and awaitTurn).
func (t *Transport) onTarget(c *call, v Verdict, attempt int, now time.Time) (d Decision, wait time.Duration, next io.ReadCloser, held bool) {
	c.earnBudget(v)
	switch {
	case v.Class == ClassOK:
		return DecisionSuccess, 0, nil, false
	case v.Class == ClassCanceled || c.ctx.Err() != nil:
		return DecisionContextDone, 0, nil, false
	case !v.Retryable && !c.quotaMovesOn(v, now):
		return DecisionNotRetryable, 0, nil, false
	case attempt > c.retries:
		return DecisionRetriesExhausted, 0, nil, false
	case !c.body.replayable:
		return DecisionNotReplayable, 0, nil, false
	}
	hinted := v.hinted() && !c.farReset(v, now)
	if hinted {
		wait = v.RetryAfter
	} else {
		wait = c.pol.backoff(c.pacer.backoffStep(c.pol, v, c.sdkRetry(attempt), now), t.random())
		if c.wakes > 0 && !c.mayWake(attempt) {
			wait = max(wait, c.sdkFloor(attempt, t.random()).Sub(now))
		}
	}
	// In a pool with another target ready to send, the retry goes at once
	// to the one whose turn comes first (admit chooses it, and its pacing
	// waits for the turn): the hint and the backoff are the failed
	// target's, which cools down meanwhile. With every other target
	// cooling or paused, the retry waits until the first is ready, if that
	// comes sooner; a fallback may take it at once.
	c.moving = false
	if d, ok := c.poolReadyIn(now); ok && (d < wait || d == 0) {
		wait, hinted, c.moving = d, false, d == 0
	}
	if hinted && wait > c.pol.maxWait() {
		return DecisionHintTooLong, wait, nil, false
	}
	if deadline, ok := c.ctx.Deadline(); ok && now.Add(wait).After(deadline) {
		return DecisionPastDeadline, wait, nil, false
	}
	// The budget protects the failed target: a retry on another does not
	// load it.
	if !c.moving && !c.spendBudget(v) {
		if !c.mayHold(v, now, wait) {
			return DecisionBudgetExhausted, 0, nil, false
		}
		held = true // delayed, not refused: awaitTurn waits for its turn
	}
	if c.body.get == nil {
		return DecisionRetry, wait, nil, held
	}
	next, err := c.body.get()
	if err != nil {
		return DecisionNotReplayable, 0, nil, held // the caller gets this attempt's outcome, not the rewind error
	}
	if next == nil {
		next = http.NoBody
	}
	return DecisionRetry, wait, next, held
}

// farReset reports whether v's hint comes from the rate-limit headers'
// reset (Verdict.Hint "reset") and is too far to wait for: longer than
// MaxWait, or ending after the context's deadline. A reset is a claim about
// a counter, not the server asking to wait: OpenAI's reset-requests is the
// time until the bucket is full again, not until one more request goes, and
// an hourly X-RateLimit-Reset: 3600 may come with a 429 the next second
// would not give. So such a hint is dropped and the retry waits the
// backoff, as openai-go's does (it ignores resets), rather than ending the
// call: only the server's explicit request (retry-after-ms, Retry-After, the
// body's retry_after, the message's "try again in") ends one with
// HintTooLong or PastDeadline. A negative MaxWait (no hint honored) keeps
// its meaning: every hinted answer is returned at once.
func (c *call) farReset(v Verdict, now time.Time) bool {
	if v.Hint != hintReset || c.pol.maxWait() <= 0 {
		return false
	}
	if v.RetryAfter > c.pol.maxWait() {
		return true
	}
	deadline, ok := c.ctx.Deadline()
	return ok && now.Add(v.RetryAfter).After(deadline)
}

// earnBudget credits the retry budget for an attempt, and spendBudget pays
// for the retry that follows it, if the budget allows. Only successes and
// failures worth retrying count: an answer that no retry can change says
// nothing of the service's health.
func (c *call) earnBudget(v Verdict) {
	if v.Class == ClassOK || v.Retryable {
		c.budget.earn(v)
	}
}

func (c *call) spendBudget(v Verdict) bool { return c.budget.spend(v) }

// fallback reports whether an attempt that got v, decided d, moves the call
// to a fallback target, and returns that target, its pacing wait done (see
// runnable), and the body of its first attempt. When no fallback can send in
// time, the attempt's own decision stands: its answer is the best the call
// has. An error is the context's, ended during a fallback's pacing wait.
func (t *Transport) fallback(c *call, v Verdict, d Decision, attempt int) (route, io.ReadCloser, bool, error) {
	if !c.fallbackLeft(v, d) {
		return route{}, nil, false, nil
	}
	// The attempt's slot goes back before another target's wait, which may
	// be for this key's slot (a fallback with the request's own policy), or
	// for a key whose holders wait for this one. An answer returned after
	// all does not hold a slot.
	c.release()
	return t.runnable(c, attempt, true)
}

// fallbackLeft reports whether the outcome of an attempt, classified as v
// and decided as d, moves the call to its next fallback target, and one is
// left to try.
func (c *call) fallbackLeft(v Verdict, d Decision) bool {
	return c.next < len(c.fallbacks) && !(c.moving && d == DecisionRetry) && c.wantsFallback(v, d)
}

// wantsFallback reports whether the outcome of an attempt, classified as v
// and decided as d, calls for the next fallback target, left or not: the
// request has fallbacks, its body can be sent again, and its policy falls
// back on that outcome (see fallbackTrigger).
func (c *call) wantsFallback(v Verdict, d Decision) bool {
	return len(c.fallbacks) > 0 && c.body.replayable && c.primary.fallbackOn().shouldFallback(v, d)
}

// fallbackTrigger is a set of outcomes that send a request to its next
// fallback [Target]: fallbackOnOverload always, and the others as the
// Policy's FallbackOnRateLimit and FallbackOnExhausted say.
type fallbackTrigger uint8

const (
	// fallbackOnOverload falls back at once, without waiting, after an
	// Overloaded or ModelOverloaded answer (e.g. GPT-Gob's 503
	// horde_unavailable, Cencori's 503 PROVIDER_ERROR, Anthropic's 529).
	fallbackOnOverload fallbackTrigger = 1 << iota
	// fallbackOnRateLimit falls back at once after a RateLimited answer,
	// instead of waiting out its hint on the same target. A request whose
	// target the server has paused (after another request's 429) goes to the
	// next target at once too, without an attempt; so does one that the
	// target's configured Limits cannot let go before its deadline. Requests
	// that cannot fall back still wait out the pause.
	fallbackOnRateLimit
	// fallbackOnExhausted falls back when a target's retries end on a
	// retryable failure (RetriesExhausted, BudgetExhausted, HintTooLong or
	// PastDeadline), whatever its class.
	fallbackOnExhausted
)

func (f fallbackTrigger) has(x fallbackTrigger) bool { return f&x != 0 }

// fallbackOn is the set of outcomes that move a request of p to its next
// fallback target.
func (p *Policy) fallbackOn() fallbackTrigger {
	f := fallbackOnOverload
	if p.FallbackOnRateLimit {
		f |= fallbackOnRateLimit
	}
	if p.FallbackOnExhausted {
		f |= fallbackOnExhausted
	}
	return f
}

// shouldFallback reports whether the outcome of an attempt, classified as v
// and decided as d, moves the request to its next target.
func (f fallbackTrigger) shouldFallback(v Verdict, d Decision) bool {
	switch d {
	case DecisionSuccess, DecisionNotRetryable, DecisionNotReplayable, DecisionContextDone:
		return false
	}
	switch {
	case (v.Class == ClassOverloaded || v.Class == ClassModelOverloaded) && f.has(fallbackOnOverload):
		return true
	case v.Class == ClassRateLimited && f.has(fallbackOnRateLimit):
		return true
	}
	return d != DecisionRetry && f.has(fallbackOnExhausted)
}

// send gives the ticket of the attempt sent at now, counting the
// request's 429s in a row, each followed by an attempt of the key the
// server accepted (call.again, ticket.again).
func (c *call) send(now time.Time) ticket {
	tk := c.pacer.send(c.ctx, now, c.cost, c.costed)
	if c.again {
		c.refusedRun++
	} else {
		c.refusedRun = 0
	}
	tk.unseen = c.watched && !c.again
	c.again, c.watched, tk.again = false, false, uint8(min(c.refusedRun, math.MaxUint8))
	return tk
}

// retryWait waits s.wait before a retry, or until the server accepts an
// attempt sent after the refused one, when s.wakes (pacer.retryWake): the
// retry then goes to its turn at the key's pace. The attempt is this
// process's, or, on a fleetWaker's key, any process's sent after s.at (the
// decision's time). An error is the call's context's.
func (t *Transport) retryWait(c *call, s step) error {
	c.watched = s.watch
	if !s.wakes || s.wait <= 0 {
		err := t.wait(c.ctx, s.wait)
		c.again = s.watch && c.pacer.acceptedSince(s.since)
		return err
	}
	wake, done := c.pacer.acceptedAfter(s.since)
	if done {
		c.woke()
		return c.ctx.Err()
	}
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	if w := c.pacer.fleetWaker(); w != nil {
		// The fleet's answers too: another process's attempt sent after
		// the 429 and accepted shows the server takes requests again.
		go func(key string) {
			if w.AcceptedAfter(ctx, key, s.at) {
				cancel()
			}
		}(c.pacer.key)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func(wake <-chan struct{}) {
		for {
			select {
			case <-wake:
			case <-stop:
				return
			}
			var done bool
			if wake, done = c.pacer.acceptedAfter(s.since); done {
				cancel()
				return
			}
		}
	}(wake)
	t.wait(ctx, s.wait)
	if ctx.Err() != nil && c.ctx.Err() == nil { // woken
		c.woke()
	}
	return c.ctx.Err()
}
