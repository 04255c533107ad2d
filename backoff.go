package llmretry

import "time"

// exponential is the wait before retry number retry (1 for the first retry)
// when the server gave no hint: base·2^(retry−1), at most maxDelay, with equal
// jitter drawn from r, a number in [0, 1): uniformly between half and all of
// the step. Never less than half keeps retries from piling onto a rate limit;
// the spread breaks up a herd of clients that failed together. It is a pure
// function, so tests can pass a fixed r.
func exponential(base, maxDelay time.Duration, retry int, r float64) time.Duration {
	if base <= 0 || maxDelay <= 0 {
		return 0
	}
	d := base
	for i := 1; i < retry && d < maxDelay; i++ {
		d *= 2 // d < maxDelay ≤ MaxInt64 before doubling; stop at once past max
		if d <= 0 {
			d = maxDelay // overflow
		}
	}
	if d > maxDelay {
		d = maxDelay
	}
	if r < 0 || r >= 1 {
		r = 0
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
