package llmretry

import (
	"math/rand/v2"
	"time"
)

// Jitter chooses how [Exponential] randomises its waits, so that clients that
// failed together do not retry together.
type Jitter uint8

const (
	// EqualJitter waits uniformly between half and all of the exponential
	// step: never less than half, which keeps retries from piling onto a rate
	// limit, and spread enough to break up a herd. The default.
	EqualJitter Jitter = iota
	// FullJitter waits uniformly between zero and the exponential step
	// ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
	FullJitter
	// NoJitter waits exactly the exponential step.
	NoJitter
)

// BackoffFunc returns how long to wait before retry number retry (1 for the
// first retry) when the server gave no hint. It must be safe for concurrent use.
type BackoffFunc func(retry int) time.Duration

// Exponential is the wait before retry number retry (1 for the first retry):
// base·2^(retry−1), at most maxDelay, jittered as j says with r, a number in [0, 1)
// (for example rand.Float64()). It is a pure function, so tests can pass a
// fixed r.
func Exponential(base, maxDelay time.Duration, j Jitter, retry int, r float64) time.Duration {
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
	switch j {
	case FullJitter:
		return time.Duration(r * float64(d))
	case NoJitter:
		return d
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}

// ExponentialBackoff returns a BackoffFunc for [Exponential] with the
// goroutine-safe random source of math/rand/v2.
func ExponentialBackoff(base, maxDelay time.Duration, j Jitter) BackoffFunc {
	return func(retry int) time.Duration {
		return Exponential(base, maxDelay, j, retry, rand.Float64())
	}
}
