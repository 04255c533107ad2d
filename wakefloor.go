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
//
// maxSpareWakes bounds the wakes that retries left to spare by the
// deadline allow (mayWake): four, what the bench fleet's deadline leaves
// (10 retries, 24 s deadlines: openai-go sends seven at most). Each is one
// more attempt of a request the server may refuse for itself, sent at the
// key's pace: with no bound, such a request sent nine attempts in 400 ms
// where openai-go sends two in its first second (attack 11 finding 5;
// docs/runs/2026-12-07-attack11.md).
const (
	maxRetryWakes = 2
	manyRetries   = 6
	maxSpareWakes = 4
)

// mayWake reports whether the retry after attempt may be woken: while
// wakes are left, and never the last retry, which keeps to an SDK's
// schedule (sdkFloor). Beyond maxRetryWakes, a request with manyRetries or
// more, whose deadline leaves an SDK manyRetries or more, may also spend
// on wakes (up to maxSpareWakes) the retries it could not send before its
// deadline anyway (retriesBeforeDeadline: an SDK's, then its own
// backoff's): after w wakes its later retries keep the SDK's retries 2 to
// MaxRetries−w, and its last the SDK's last before the deadline, so with
// w ≤ MaxRetries − D + 1 (D: those retries) every SDK attempt the deadline
// allows keeps its time,
// and so do the retries the backoff sends after the SDK's last (a request
// refused for 8 s, MaxRetries 10, a 10 s deadline: accepted at 8.06 s, its
// ninth attempt; openai-go's fifth, at 5.6–7.5 s, is its last in time).
//
// Why: a retry of a fleet's key refused again at its woken turn, twice,
// is the pace's luck far more often than a request refused for itself;
// with two wakes it then waited for the SDK's second retry (1.1–1.5 s
// after its first answer) with the server taking the fleet's others, and
// that wait made the run's tail (bench fleet on redislimit, bare 429s,
// 10 retries, 24 s deadlines: 1.06–1.25× in 19 of 180 bare and Cerebras
// cells; a request refused at 4.68, 4.79 and 5.10 s accepted at 6.13 s;
// docs/runs/2026-12-07-wakes.md). openai-go's seventh retry comes 23.6 s
// or more after its first answer, its last before such a deadline: four
// wakes of ten retries cost the request none of its chances.
//
// Why only with many retries, and a deadline an SDK sends six or more
// before: spare wakes then come seconds before the retries they take the
// place of. With a short deadline they crowd the few seconds a request
// has, at the key's next accepted answer: a fleet's self-refused requests
// (10 retries, 3 s deadlines) sent 170–180 attempts where one or two wakes
// sent 120, up to 24 attempts in 20 ms against a limit of 22, and 0–12
// failed of 600 where b4431cb failed 1–2.
//
// And with many retries: a fleet's pacing queue takes real time the
// count of spare retries does not see, and with few retries the one a wake
// took was the backoff's last chance after the refusal (bench fleet, every
// 20th request refused for itself for 1.5 s, MaxRetries 4, 3 s deadlines:
// 9–11 failed of 600 where b4431cb failed 0–2; openai-go 49–56).
func (c *call) mayWake(attempt int) bool {
	wakes := 1
	if c.retries >= manyRetries {
		wakes = maxRetryWakes
		if all, sdk := c.retriesBeforeDeadline(); sdk >= manyRetries {
			wakes = max(wakes, min(c.retries-all+1, maxSpareWakes))
		}
	}
	return c.wakes < wakes && attempt < c.retries
}

// sdkRetry is the retry whose backoff step the retry after attempt takes:
// the spare wakes (past maxRetryWakes) stand for no SDK retry, so a 5xx
// after four wakes does not back off as a sixth retry (attack 11 finding
// 3: 3 s, then 6 s, where openai-go waits 1 s). The first two count, as
// before spare wakes were: on redislimit, whose steps double uncapped, a
// retry after two wakes then backs off 1–2 s, not 0.5–1 s, and a request
// refused for itself is not sent back into its refusal at the SDK's
// second retry's time.
func (c *call) sdkRetry(attempt int) int {
	return attempt - max(c.wakes-maxRetryWakes, 0)
}

// retriesBeforeDeadline is how many retries a request not woken could send
// before the call's deadline: an SDK's plain retries (the policy's delays,
// as in sdkFloor) whose earliest time (the step less a quarter, from
// c.first, on an SDK's clock) comes before it, then, after the last of
// them (its latest time), one each base until the deadline, as the
// backoff sends them once sdkFloor is past (all), and how many of them are
// an SDK's (sdk). With no deadline both are MaxRetries.
func (c *call) retriesBeforeDeadline() (all, sdk int) {
	deadline, ok := c.ctx.Deadline()
	base, maxDelay := c.pol.delays()
	if !ok || base <= 0 || maxDelay <= 0 {
		return c.retries, c.retries
	}
	n, sum, step := 0, time.Duration(0), base
	for n < c.retries {
		next := sum + min(step, maxDelay)
		if next < 0 || !c.first.Add(next*3/4).Before(deadline) {
			break
		}
		n, sum = n+1, next
		step = min(step, maxDelay/2) * 2
	}
	sdk = n
	// The backoff's retries after it: one each base, its shortest at the
	// paced step (attack 11 finding 1: counted at its longest, 1 s, the
	// wakes took the retries a request refused for 9 s, with a 10 s
	// deadline, is accepted after 9 s).
	if left := deadline.Sub(c.first.Add(sum)); left > 0 {
		n += int(min(left/min(base, maxDelay), time.Duration(c.retries)))
	}
	return min(n, c.retries), sdk
}

// woke counts a retry woken before its backoff ended; past maxRetryWakes
// (a spare wake), its attempt is one an SDK does not send (extra). The
// first two keep their time on the SDK's clock, as before spare wakes
// were: off it, the retry after them goes that much sooner, and with slow
// answers into a refusal that the later retry missed (MaxRetries 10, 2.4 s
// deadline, 200 ms answers, refused 1.8 s: 429 where b4431cb got 200).
func (c *call) woke() {
	c.wakes++
	c.extra = c.wakes > maxRetryWakes
	c.again = true
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
// time but those of the spare wakes (extra). Attack 10 finding 1:
// counted from the first attempt's start, the floor was past before the
// retry was decided when 429s took a second.
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
