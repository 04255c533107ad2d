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
	last   time.Time
}

// at is what b holds at now.
func (b *bucket) at(now time.Time) float64 {
	if b.rate == 0 {
		return math.Inf(1)
	}
	if d := now.Sub(b.last); d > 0 {
		return min(b.burst, b.tokens+d.Seconds()*b.rate)
	}
	return b.tokens
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
	b.tokens = b.at(now) - n
	b.last = maxTime(b.last, now)
}

// giveBack returns n taken before now by a request that did not go. It is
// exact only for the last take (a later one was scheduled behind it): the
// queue in buckets sees to that.
func (b *bucket) giveBack(now time.Time, n float64) {
	if b.rate == 0 {
		return
	}
	b.tokens = min(b.burst, b.at(now)+n)
	b.last = maxTime(b.last, now)
}

// empty drops what b holds at now, keeping any debt: it refills at its rate.
func (b *bucket) empty(now time.Time) {
	if b.rate == 0 {
		return
	}
	b.tokens = min(0, b.at(now))
	b.last = maxTime(b.last, now)
}

// set applies a rate and burst at now; r ≤ 0 means none. A bucket that was
// not limited starts full at its new limit. A bucket whose burst grows keeps
// what it lacked (what was taken and is not back yet, or a debt), not its
// level: the new burst is there at once for the rest. An estimate's pace
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
		*b = bucket{rate: fr, burst: fb, tokens: fb, last: now}
	case b.rate != fr || b.burst != fb:
		b.tokens, b.last = b.at(now), maxTime(b.last, now)
		if fb > b.burst {
			b.tokens += fb - b.burst
		}
		b.rate, b.burst = fr, fb
		b.tokens = min(b.tokens, fb)
	}
}
