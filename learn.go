package llmretry

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Learning a key's pace from whatever the server shows of its limit: its
// rate-limit headers where it sends them (learnedLimit), otherwise the rate
// of answers it accepted while it refused others with 429s (estimate).

// learnedHeadroom is the share of a learned rate that is used, leaving room
// for the clock skew and network jitter between us and the server.
const learnedHeadroom = 0.97

// learnedTTL is how long a limit read from headers holds without being read
// again: a server that stops announcing it, or announced garbage once, is
// not paced by it forever.
const learnedTTL = time.Minute

// learning is what a key has learned. Safe for concurrent use.
type learning struct {
	mu  sync.Mutex // guards the fields below
	req learnedLimit
	tok learnedLimit
	est estimate
}

// limit is the learned pace at now: headers' limits, and the estimate capping
// the request rate (est reports that it does).
func (l *learning) limit(now time.Time) (lim Limit, est bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim.RequestRate, lim.RequestBurst = l.req.at(now)
	lim.TokenRate, lim.TokenBurst = l.tok.at(now)
	if e := l.est.rate(now); e > 0 && (lim.RequestRate <= 0 || rate.Limit(e) < lim.RequestRate) {
		lim.RequestRate, lim.RequestBurst, est = rate.Limit(e), 1, true
	}
	return lim, est
}

// headerRate reports whether headers gave a rate that holds at now.
func (l *learning) headerRate(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.req.at(now)
	t, _ := l.tok.at(now)
	return r > 0 || t > 0
}

func (l *learning) pacesTokens(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.tok.at(now)
	return r > 0
}

// read learns from a response's rate-limit headers: for each unit, the
// tightest of its dimensions.
func (l *learning) read(h *rateHeaders, now time.Time) {
	var req, tok reading
	for i := 0; i < h.n; i++ {
		d := &h.dims[i]
		r, ok := d.reading()
		if !ok {
			continue
		}
		switch d.unit {
		case unitRequests:
			req = req.tighter(r)
		case unitTokens:
			tok = tok.tighter(r)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if req.ok {
		l.req.add(req, now)
	}
	if tok.ok {
		l.tok.add(tok, now)
	}
}

// cut lowers the estimated request rate after a 429 the headers do not
// explain; accepted is the rate of answers other than 429 over the last
// second. The estimate grows from the end of the pause, if any: nothing is
// sent before.
func (l *learning) cut(now time.Time, accepted, refusedShare float64, pausedUntil time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.est.cut(now, accepted, refusedShare, pausedUntil)
}

// reading is one response's rate and burst for one unit.
type reading struct {
	ok    bool
	rate  float64 // per second
	burst int
	// upper: the rate is an upper bound (a bucket's delay, with Remaining
	// rounded down), so the smallest recent reading is the best; else a
	// lower bound (a reset time rounded up to the second), so the largest.
	upper bool
	// latest: a window's reading, made stale by the next one.
	latest bool
}

func (r reading) tighter(o reading) reading {
	if !r.ok || o.rate < r.rate {
		if r.ok {
			o.burst = min(o.burst, r.burst)
		}
		return o
	}
	r.burst = min(r.burst, o.burst)
	return r
}

// reading derives a rate and a burst from one dimension.
//
//   - A window whose period the header names (Cerebras's -minute, -day; the
//     IETF policy's w): limit per period; what remains may go at once.
//   - A token bucket (OpenAI's reset: the time until it is full again): the
//     used share refills in reset: (limit−remaining)/reset; its burst is the
//     limit.
//   - Otherwise a window that ends at reset: no rate; what remains may go
//     at once, and the pause when nothing remains does the rest.
func (d *rateDim) reading() (reading, bool) {
	if !d.hasRemain {
		return reading{}, false
	}
	switch {
	case d.period > 0 && d.hasLimit && d.limit > 0:
		return reading{ok: true, rate: float64(d.limit) / d.period.Seconds(), burst: int(max(d.remaining, 1)), latest: true}, true
	case !d.hasReset || d.reset <= 0:
		return reading{}, false
	case d.bucket && d.hasLimit:
		if d.remaining >= d.limit {
			return reading{}, false // full: says nothing of the rate
		}
		// The reset may be rounded up by its resolution ("11ms" for 10.2 ms,
		// Anthropic's whole seconds): (limit−remaining)/(reset−resolution)
		// is an upper bound of the rate, and the smallest recent one the
		// best estimate. A reset within its resolution bounds nothing.
		refill := d.reset - d.gran
		if refill <= 0 {
			return reading{}, false
		}
		return reading{ok: true, rate: float64(d.limit-d.remaining) / refill.Seconds(), burst: int(max(d.limit, 1)), upper: true}, true
	}
	// A window of unknown length: what remains may all go before its end,
	// and when nothing remains the pause holds every request until then.
	// A rate would only slow the window down.
	return reading{}, false
}

// learnedLimit is one unit's limit from headers: the best estimate from the
// last few readings.
type learnedLimit struct {
	r     [8]float64
	n     int
	burst int
	mode  reading // upper/latest of the readings held
	last  time.Time
}

func (l *learnedLimit) add(r reading, now time.Time) {
	if r.upper != l.mode.upper || r.latest != l.mode.latest || now.Sub(l.last) > learnedTTL {
		l.n = 0 // a different kind of reading, or stale ones: start over
	}
	l.mode = r
	l.r[l.n%len(l.r)] = r.rate
	l.n++
	l.burst = r.burst
	l.last = now
}

// at is the limit at now, with headroom; 0 when there is none.
func (l *learnedLimit) at(now time.Time) (rate.Limit, int) {
	if l.n == 0 || now.Sub(l.last) > learnedTTL {
		return 0, 0
	}
	est := l.r[(l.n-1)%len(l.r)]
	if !l.mode.latest {
		for i := 0; i < min(l.n, len(l.r)); i++ {
			if l.mode.upper {
				est = min(est, l.r[i])
			} else {
				est = max(est, l.r[i])
			}
		}
	}
	if est <= 0 || math.IsInf(est, 0) || math.IsNaN(est) {
		return 0, 0
	}
	return rate.Limit(est * learnedHeadroom), burstHeadroom(l.burst)
}

// The estimate after 429s that nothing explains. A first cut starts from
// what the server accepted in the last second and grows fast (slow start)
// until the next 429; from then on the rate is set to what the server
// accepted while refusing the rest, and probes upwards slowly. Recovery
// depends on time, not on successes, so that a storm that has passed does
// not leave a key crawling; without a 429 for adaptiveQuiet, the estimate
// is dropped.
const (
	cutInterval         = 200 * time.Millisecond // in slow start, the 429s of one burst count as one cut
	measuredCutInterval = time.Second            // after, one cut a second at most
	peakFloor           = 0.5                    // cuts stop at half the most the server accepted
	minRefusedShare     = 0.1                    // once an estimate exists, cuts need 429s for a tenth of the answers
	costlyPause         = 250 * time.Millisecond // or a pause at least this long
	cutFloor            = 0.5                    // a cut keeps at least half the rate
	cutCeiling          = 0.9                    // and at most 90% of it
	slowDoubling        = 250 * time.Millisecond // a slow start doubles the rate this often
	slowMaxDoublings    = 6                      // and grows it 64-fold at most
	probeGrowth         = 0.02                   // after a measured cut, the rate grows 2% a second
	adaptiveFloor       = 1.0                    // requests/s: the least a first cut starts from
	adaptiveQuiet       = 30 * time.Second       // without a cut for this long, the estimate is dropped
)

// estimate is the request rate inferred from 429s.
type estimate struct {
	base     float64 // requests/s at the last cut; 0 when off
	lastCut  time.Time
	measured bool    // base was measured from a rate that earned 429s: probe slowly
	peak     float64 // the most accepted in a second at a cut since the estimate began
}

// rate is the estimate at now, or 0 when it is off.
func (e *estimate) rate(now time.Time) float64 {
	if e.base <= 0 {
		return 0
	}
	since := now.Sub(e.lastCut)
	if since > adaptiveQuiet {
		return 0
	}
	s := max(since.Seconds(), 0)
	if !e.measured {
		return e.base * math.Exp2(min(s/slowDoubling.Seconds(), slowMaxDoublings))
	}
	return e.base * (1 + probeGrowth*s)
}

func (e *estimate) cut(now time.Time, accepted, refusedShare float64, pausedUntil time.Time) {
	cur := e.rate(now)
	interval := cutInterval
	if e.measured {
		interval = measuredCutInterval
	}
	if cur > 0 && (now.Sub(e.lastCut) < interval || refusedShare < minRefusedShare && pausedUntil.Sub(now) < costlyPause) {
		// The 429s of a burst already cut for, or a few 429s among many
		// answers, which hold nobody long: a server that refuses some
		// whatever the rate, or a probe just past the limit, not a rate far
		// above it. A 429 that pauses the key for long always cuts: the
		// pause costs more than a slower pace.
		return
	}
	defer func() { e.lastCut = maxTime(now, pausedUntil) }()
	if cur <= 0 {
		// Nothing known: start from what the server accepted, cautiously.
		e.base, e.measured, e.peak = max(accepted, adaptiveFloor), false, accepted
		return
	}
	// Sending at cur earned a 429: the server's rate is about what it
	// accepted meanwhile. The first 429 after a slow start goes straight
	// there, however far the start overshot; later ones cut by half at
	// most. 429s that come whatever the rate (a server shedding load at
	// random) would drive it down without end: the estimate stays above
	// half the most the server was seen to accept.
	e.peak = max(e.peak, accepted)
	if e.measured {
		e.base = min(max(accepted*learnedHeadroom, cur*cutFloor), cur*cutCeiling)
	} else {
		e.base = min(accepted*learnedHeadroom, cur*cutCeiling)
	}
	e.base, e.measured = max(e.base, e.peak*peakFloor, adaptiveFloor), true
}

// admittedWindow counts answers other than 429 (admitted) and 429s
// (refused) over the last second, in tenths of a second.
type admittedWindow struct {
	slots [10]struct {
		tick              int64
		admitted, refused int32
	}
}

const admittedTick = 100 * time.Millisecond

func (w *admittedWindow) add(now time.Time, refused bool) {
	tick := now.UnixNano() / int64(admittedTick)
	s := &w.slots[tick%int64(len(w.slots))]
	if s.tick != tick {
		s.tick, s.admitted, s.refused = tick, 0, 0
	}
	if refused {
		s.refused++
	} else {
		s.admitted++
	}
}

// rate is the admitted answers per second over the last second (the tick
// under way and the nine before it), and the share of 429s among them.
func (w *admittedWindow) rate(now time.Time) (perSecond, refusedShare float64) {
	ns := now.UnixNano()
	tick := ns / int64(admittedTick)
	a, r := 0, 0
	for _, s := range w.slots {
		if s.tick <= tick && s.tick > tick-int64(len(w.slots)) {
			a += int(s.admitted)
			r += int(s.refused)
		}
	}
	span := time.Duration(len(w.slots)-1)*admittedTick + time.Duration(ns%int64(admittedTick))
	if a+r > 0 {
		refusedShare = float64(r) / float64(a+r)
	}
	return float64(a) / span.Seconds(), refusedShare
}
