package llmretry

import "time"

// maxRetryWakes is how many of a request's retries on one target may end
// their backoff early, woken by an answer the server accepted for another
// attempt of the key (pacer.retryWake, Transport.retryWait), when it has
// manyRetries or more; one with fewer.
//
// Why two: on a fleet's estimate, a retry refused again after a wake is
// mostly the pace's luck (the fleet probes a few percent over the server's
// rate), and a retry that slept its backoff then made the run's tail (bench
// fleet on redislimit, 10 retries, bare 429s: 1.07–1.43× with one wake,
// 0.99–1.01× with more; docs/runs/2026-12-07-final5.md). A request the
// server refuses for itself (a prompt too big for the tokens left, while
// it takes the key's small ones) is refused at every wake: with no bound
// its retries all went within a few hundred milliseconds (attack 7 finding
// 4, attack 9 finding 3).
//
// Why only with many retries: each wake past the first spends a retry that
// no time of an SDK's schedule pays for, and sdkFloor then skips the SDK's
// next-to-last retry (MaxRetries 5, refused 5 s: accepted at 13.6 s where
// openai-go's fifth attempt, at 5.6–7.5 s, is; attack 10 finding 2). With
// six or more that retry's time is 14 s or more after the first attempt.
const (
	maxRetryWakes = 2
	manyRetries   = 6
)

// mayWake reports whether the retry after attempt may be woken: while
// wakes are left, and never the last retry, which keeps to an SDK's
// schedule (sdkFloor). Beyond maxRetryWakes, a request may also spend on
// wakes the retries an SDK could not send before its deadline
// (sdkRetriesBefore): after w wakes its later retries keep the SDK's
// retries 2 to MaxRetries−w, and its last the SDK's last before the
// deadline, so with w ≤ MaxRetries − D + 1 (D: the SDK's retries before
// the deadline) every SDK attempt the deadline allows keeps its time.
//
// Why: a retry of a fleet's key refused again at its woken turn, twice,
// is the pace's luck far more often than a request refused for itself;
// with two wakes it then waited for the SDK's second retry (1.1–1.5 s
// after its first answer) with the server taking the fleet's others, and
// that wait made the run's tail (bench fleet on redislimit, bare 429s,
// 10 retries, 24 s deadlines: 1.13–1.24× in three of seven runs of ×4,
// a request refused at 4.68, 4.79 and 5.10 s accepted at 6.13 s;
// docs/runs/2026-12-07-wakes.md). openai-go's tenth retry comes 41 s or
// more after its first answer: within 24 s it sends seven at most, and
// three of ten retries were never the SDK's to use.
func (c *call) mayWake(attempt int) bool {
	wakes := 1
	if c.retries >= manyRetries {
		wakes = maxRetryWakes
	}
	wakes = max(wakes, c.retries-c.sdkRetriesBefore()+1)
	return c.wakes < wakes && attempt < c.retries
}

// sdkRetriesBefore is how many of an SDK's plain retries (the policy's
// delays, as in sdkFloor) it could send before the call's deadline: those
// whose earliest time (its step less a quarter, counted from c.first, on
// an SDK's clock) comes before it. All of them with no deadline.
func (c *call) sdkRetriesBefore() int {
	deadline, ok := c.ctx.Deadline()
	base, maxDelay := c.pol.delays()
	if !ok || base <= 0 || maxDelay <= 0 {
		return c.retries
	}
	sum, step := time.Duration(0), base
	for n := 1; n <= c.retries; n++ {
		if sum += min(step, maxDelay); sum < 0 || !c.first.Add(sum*3/4).Before(deadline) {
			return n - 1
		}
		step = min(step, maxDelay/2) * 2
	}
	return c.retries
}

// sdkFloor is the earliest time the retry after attempt goes on a target
// whose earlier retries were woken: when an SDK's plain retries (openai-go:
// 0.5 s doubling to 8 s, less up to a quarter; here the policy's delays,
// less r/4) would send the same request's attempt. The first retry after
// the wakes keeps the SDK's second retry's time (the wakes stood for its
// first); the last keeps the SDK's last, or, when that comes after the
// deadline, the earliest time an SDK's jitter allows it, or the SDK's last
// attempt before it. So a request refused for itself gets, by its last
// attempt, every chance an SDK gives it, and never an attempt sent too
// late for its deadline where an SDK's would have been in time (attack 9
// findings 1, 2 and 4: the wakes' debt added to a doubled step went past
// the deadline, or short of the SDK's last attempt). Its clock is an
// SDK's: c.first is when the first answer came, plus each later attempt's
// time (attack 10 finding 1: counted from the first attempt's start, the
// floor was past before the retry was decided when 429s took a second).
func (c *call) sdkFloor(attempt int, r float64) time.Time {
	n := attempt // the SDK's retry whose time this one keeps
	if attempt < c.retries {
		n = min(attempt-c.wakes+1, attempt)
	}
	deadline, hasDeadline := c.ctx.Deadline()
	base, maxDelay := c.pol.delays()
	if base <= 0 || maxDelay <= 0 || r < 0 || r >= 1 {
		return time.Time{}
	}
	jitter := 1 - r/4
	floor, sum, step := time.Time{}, time.Duration(0), base
	for i := 1; i <= n; i++ {
		if sum += min(step, maxDelay); sum < 0 {
			break // past any deadline (overflow)
		}
		at := c.first.Add(time.Duration(float64(sum) * jitter))
		if hasDeadline && !at.Before(deadline) {
			// Past the deadline: the SDK's earliest time for this
			// attempt (a quarter less), if that is before it.
			if at = c.first.Add(sum * 3 / 4); at.Before(deadline) {
				floor = at
			}
			break
		}
		floor = at
		step = min(step, maxDelay/2) * 2
	}
	return floor
}
