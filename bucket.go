package llmretry

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// bucket is a token bucket that may go into debt. A request is charged its
// whole cost: one that costs more than the bucket holds goes when the bucket
// is full and leaves the rest as a debt, which later requests wait out, so
// that over any span no more than the burst plus the rate times the span is
// sent, whatever the requests' sizes. The zero value is not limited.
type bucket struct {
	rate   float64 // tokens a second; 0 means not limited
	burst  float64
	tokens float64 // at last; below zero, a debt
	last   int64   // Unix nanoseconds
	// hi is the largest burst set since b was limited, and spare what b
	// would hold at last had its burst been hi all along: a burst that
	// grows back gets what was taken since, not a new allowance (set).
	hi, spare float64
}

// at is what b holds at now.
func (b *bucket) at(now time.Time) float64 {
	if b.rate == 0 {
		return math.Inf(1)
	}
	return b.fill(now, b.tokens, b.burst)
}

// spareAt is what b would hold at now at burst hi (see bucket.hi).
func (b *bucket) spareAt(now time.Time) float64 {
	return b.fill(now, b.spare, b.hi)
}

// fill is a level of v at last refilled at b's rate until now, up to c.
func (b *bucket) fill(now time.Time, v, c float64) float64 {
	if d := now.UnixNano() - b.last; d > 0 {
		return min(c, v+float64(d)/1e9*b.rate)
	}
	return v
}

// move sets b's level and spare at now; b.last becomes now unless later.
func (b *bucket) move(now time.Time, tokens, spare float64) {
	b.tokens, b.spare = tokens, spare
	b.last = max(b.last, now.UnixNano())
}

// need is how long, from now, until b can pay for a request costing n once
// the requests costing ahead (charged before it) have been paid for: until
// it holds ahead and n more, or ahead and a full bucket.
func (b *bucket) need(now time.Time, ahead, n float64) time.Duration {
	if b.rate == 0 {
		return 0
	}
	missing := ahead + min(n, b.burst) - b.at(now)
	if missing <= 0 {
		return 0
	}
	if s := missing / b.rate; s < maxPlausibleHint.Seconds() {
		return time.Duration(s * float64(time.Second))
	}
	return rate.InfDuration // a rate so slow (a hostile header's) that no wait ends
}

// take charges n at now; the request goes once need says so.
func (b *bucket) take(now time.Time, n float64) {
	if b.rate == 0 {
		return
	}
	b.move(now, b.at(now)-n, b.spareAt(now)-n)
}

// giveBack returns n taken before now by a request that did not go. It is
// exact only for the last take (a later one was scheduled behind it): the
// queue in buckets sees to that.
func (b *bucket) giveBack(now time.Time, n float64) {
	if b.rate == 0 {
		return
	}
	b.move(now, min(b.burst, b.at(now)+n), min(b.hi, b.spareAt(now)+n))
}

// empty drops what b holds at now, keeping any debt: it refills at its rate.
func (b *bucket) empty(now time.Time) {
	if b.rate == 0 {
		return
	}
	b.move(now, min(0, b.at(now)), min(0, b.spareAt(now)))
}

// set applies a rate and burst at now; r ≤ 0 means none. A bucket that was
// not limited starts full at its new limit. A bucket whose burst grows past
// any it had keeps what it lacked (what was taken and is not back yet, or a
// debt), not its level: the new burst is there at once for the rest; one
// that grows back holds what it would have, had the larger burst held all
// along (bucket.hi). An estimate's pace
// (burst 1, nearly empty while it holds the key) giving way to a daily
// window's (Cerebras's 14,400 a day: 0.16/s, all that remains at once),
// when an outage's probe ended, kept the level and held the key at 6 s a
// request (bench fleet cerebras ×8, 3.4–4.0×: TestBucketBurstGrows).
func (b *bucket) set(now time.Time, r rate.Limit, burst int) {
	if r <= 0 || math.IsInf(float64(r), 1) {
		*b = bucket{}
		return
	}
	fr, fb := float64(r), float64(max(burst, 1))
	switch {
	case b.rate == 0:
		*b = bucket{rate: fr, burst: fb, tokens: fb, last: now.UnixNano(), hi: fb, spare: fb}
	case b.rate != fr || b.burst != fb:
		tokens, spare := b.at(now), b.spareAt(now)
		if fb > b.hi {
			spare += fb - b.hi
			b.hi = fb
		}
		if fb > b.burst {
			// What b would hold had the burst been the larger all along:
			// bursts that take turns (two paces told to one key by its
			// callers, an estimate's burst 1 and headers' 9) would each
			// time give the difference anew: 8 more every few ms, 33
			// attempts in 20 ms where the server allowed 11 (bench matrix
			// anthropic/requests: TestBucketBurstTakesTurns).
			tokens = min(fb, spare)
		}
		b.move(now, min(tokens, fb), spare)
		b.rate, b.burst = fr, fb
	}
}
