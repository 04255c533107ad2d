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
	win [2]windowState // requests, tokens

	born   time.Time // the first reading of headers
	shared time.Time // until then, the headers' request bucket is outvoted (outvoteBucket)
}

// outvoteBucket weighs the request bucket the headers claim against what
// the server accepted from the key over the last second (accepted), on a
// 429 the claim would explain. Accepting less than half the claimed rate
// while refused, the key shares the bucket the headers describe with
// clients it cannot see (replicas on one API key: each reads the whole
// bucket's rate, and together they send it several times over). The claim
// is then outvoted for learnedTTL: the 429 is left to the estimate, which
// measures the key's own share, and the headers no longer switch it off.
func (l *learning) outvoteBucket(now time.Time, accepted float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.shared) {
		return true
	}
	r, _ := l.req.at(now)
	if r <= 0 || l.born.IsZero() || now.Sub(l.born) < outvoteAfter || accepted >= sharedShare*float64(r) {
		return false
	}
	l.shared = now.Add(learnedTTL)
	return true
}

// sharedShare is the share of a bucket's claimed rate below which a key
// refused by it is taken to share it (outvoteBucket).
const sharedShare = 0.5

// outvoteAfter is how long after the first reading of headers a claimed
// bucket may be outvoted: the accepted rate is then measured over this
// span at least (see bornAt). A second, as before, was too late for a
// fleet: eight processes each pacing at the claim sent a request's eleven
// attempts within 0.8 s, all refused (bench fleet openai ×8, 18–23 of 600
// failed). At 250 ms a lone key at a 100/s claim with a burst of 10 has
// had some 34 accepted (136/s, far above half the claim), and a key with
// one of eight shares 4 or 5 (under 20/s).
const outvoteAfter = 250 * time.Millisecond

// bornAt is when the key first read headers (zero if never): the accepted
// rate that outvotes a claim is measured from then, not over a second it
// did not send in.
func (l *learning) bornAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.born
}

// limit is the learned pace at now: headers' limits, and the estimate capping
// the request rate (est reports that it does).
func (l *learning) limit(now time.Time) (lim Pace, est bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limitWith(now, l.est.rate(now), l.est.tok)
}

// limitWith is limit with e and t as the estimate's request and token
// rates (0: none). l.mu is held.
func (l *learning) limitWith(now time.Time, e, t float64) (lim Pace, est bool) {
	lim.RequestRate, lim.RequestBurst = l.req.at(now)
	lim.TokenRate, lim.TokenBurst = l.tok.at(now)
	// The estimate, which the server's 429s set although headers allowed
	// more, wins over the headers' request limit if it allows fewer in the
	// next second (a daily window announces a slow rate but lets all that
	// remains go at once).
	if e > 0 && (lim.RequestRate <= 0 || e+1 < float64(lim.RequestRate)+float64(lim.RequestBurst)) {
		lim.RequestRate, lim.RequestBurst, est = rate.Limit(e), 1, true
		// The tokens measured with it, when requests' costs vary: a run of
		// large requests at the request rate would overrun a tokens limit.
		if t > 0 && lim.TokenRate <= 0 {
			lim.TokenRate, lim.TokenBurst = rate.Limit(t), max(int(estimateTokenBurst*t/e), 1)
		}
	}
	return lim, est
}

// tokensEstimated reports whether a tokens pace at now would be the
// estimate's: no header announces a tokens limit (limitWith).
func (l *learning) tokensEstimated(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.tok.at(now)
	return r <= 0
}

// accepted lets the estimate grow for an answer the server accepted at now
// to the attempt tk; bound: the key's requests have been waiting for the
// pace (it, not their demand, sets their rate).
func (l *learning) accepted(now time.Time, bound bool, tk ticket) {
	l.mu.Lock()
	l.est.grow(now, bound, tk)
	l.mu.Unlock()
}

// probing reports whether the estimate in force at now is an outage's
// probe (estimate.outage).
func (l *learning) probing(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.est.probing(now)
}

// measured reports whether the estimate in force at now rests on a rate
// measured between 429s (past its slow start).
func (l *learning) measured(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.est.measured && l.est.rate(now) > 0
}

// trusted reports whether headers gave a request rate, and a token rate,
// that hold at now and rest on resets fine enough to explain a 429.
func (l *learning) trusted(now time.Time) (req, tok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.req.at(now)
	t, _ := l.tok.at(now)
	return r > 0 && !l.req.mode.coarse && !now.Before(l.shared), t > 0 && !l.tok.mode.coarse
}

// pacesTokens reports whether requests need a cost at now: tokens are paced
// by a learned rate or a tokens window, or may be by the estimate.
func (l *learning) pacesTokens(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.tok.at(now)
	return r > 0 || l.win[unitTokens].known() || l.est.rate(now) > 0
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
	if l.born.IsZero() {
		l.born = now
	}
	if req.ok {
		l.req.add(req, now)
	}
	if tok.ok {
		l.tok.add(tok, now)
	}
	if (req.upper && !req.coarse || tok.upper && !tok.coarse) && !now.Before(l.shared) {
		// A bucket's rate, read from the headers, is better than any
		// estimate: a 429 below it is explained by them.
		l.est.base = 0
	}
}

// answer is what kind of answer an attempt got, for the window model.
type answer uint8

const (
	answerOther   answer = iota
	answerOK             // a success: the server took the attempt
	answerRefused        // a 429
)

// readWindows learns from the answer to the attempt tk: it is no longer in
// flight, and h's windows (if h is not nil) say what is left. A window's
// headers are a claim, weighed against what the server does: a success
// without the claim after a success that made it, or a 429 long before the
// allowance our own sends counted, outvotes it (windowState.unread,
// windowState.refusedEarly).
//
// recent is how many answers other than 429 the key got over the last
// second (read for a 429 only).
func (l *learning) readWindows(h *rateHeaders, tk ticket, ans answer, recent float64, now time.Time) {
	for u := range l.win {
		w := &l.win[u]
		if tk.counted {
			w.answered(unitCost(u, tk))
		}
		if ans == answerOK {
			w.succeeded(now.UnixNano())
		}
		var best *rateDim
		for i := 0; h != nil && i < h.n; i++ {
			d := &h.dims[i]
			if d.bucket || !d.hasRemain || !d.hasReset || d.reset <= 0 || int(d.unit) != u {
				continue
			}
			if best == nil || d.remaining < best.remaining {
				best = d
			}
		}
		if best == nil {
			if ans == answerOK {
				w.unread(now.UnixNano())
			}
			continue
		}
		limit := int64(0)
		if best.hasLimit {
			limit = best.limit
		}
		if ans == answerRefused && best.remaining == 0 && w.refusedEarly(now.UnixNano(), limit, now.Add(best.reset).UnixNano(), int64(recent)) {
			continue
		}
		w.read(limit, best.remaining, now.Add(best.reset).UnixNano(), int64(best.gran), now.UnixNano(), ans == answerOK)
	}
}

// windowsTrusted reports, per unit (requests, tokens), whether the key
// trusts window claims at now: not since one was outvoted.
func (l *learning) windowsTrusted(now time.Time) [2]bool {
	return [2]bool{l.win[unitRequests].trusted(now.UnixNano()), l.win[unitTokens].trusted(now.UnixNano())}
}

// unitCost is what the attempt tk costs in unit u: 1 request, or its tokens.
func unitCost(u int, tk ticket) int64 {
	if u == int(unitTokens) {
		return int64(max(tk.cost, 1))
	}
	return 1
}

// take counts the attempt tk, sent at now, against the windows learned,
// and returns the end of one whose allowance it takes the last of.
func (l *learning) take(tk *ticket, now time.Time) (until time.Time, full bool) {
	tk.counted = true
	l.mu.Lock()
	switch {
	case !tk.costed:
		// Its cost was not estimated (tokens were not paced when its
		// request began): tokens measured across it would be wrong.
		l.est.costFrom = 0
	case l.est.costFrom == 0:
		l.est.costFrom = tk.seq
	}
	l.mu.Unlock()
	for u := range l.win {
		if end, ok := l.win[u].take(unitCost(u, *tk), now.UnixNano()); ok {
			until, full = maxTime(until, time.Unix(0, end)), true
		}
	}
	return until, full
}

// held returns, at now, the end of a window that holds the key on a cautious
// count with no room yet (windowState.room): no request goes before it,
// unless the answers in flight give room back first.
func (l *learning) held(now time.Time) (until time.Time, ok bool) {
	for u := range l.win {
		if end, room := l.win[u].room(now.UnixNano()); !room {
			until, ok = maxTime(until, time.Unix(0, end)), true
		}
	}
	return until, ok
}

// refused learns from a 429 for the attempt tk: it is a moment when the
// server had nothing left. If the 429 is unexplained (no header accounts
// for it), the estimated request rate is cut; accepted is the rate of
// answers other than 429 over the last second, for a first cut; bound: the
// key's requests have been waiting for the pace (estimate.contended);
// lone: a 429 among answers with nothing but a wait hint (burstShare),
// which starts no estimate; hinted: the 429 names its wait, and sets no
// outage (estimate.outage).
func (l *learning) refused(tk ticket, now time.Time, unexplained bool, accepted float64, pausedUntil time.Time, bound, lone, hinted bool, sent uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	measured, share, tokPerReq, attempts := l.est.measure(tk)
	blind := l.est.blind(tk)
	l.est.mark(tk)
	if unexplained {
		if blind && !hinted {
			l.est.outage(now, tk.seq) // nothing accepted for a second and more: no rate (estimate.outage)
		} else {
			l.est.cut(now, measured, share, attempts, accepted, pausedUntil, lone, sent)
			if bound {
				l.est.contended(accepted)
			}
		}
		if tokPerReq > 0 && l.est.measured && l.est.cutAt.Equal(now) {
			l.est.tokPerReq = tokPerReq
		}
		l.est.tok = l.est.base * l.est.tokPerReq
	}
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
	// coarse: a bucket's rate from a reset rounded to coarseReset or more
	// (Anthropic's whole seconds): an upper bound that may be far above
	// the rate, which paces but neither explains a 429 nor replaces the
	// estimate.
	coarse bool
}

// coarseReset is the resolution of a reset from which a bucket's rate is
// too loose a bound to trust (see reading.coarse).
const coarseReset = 100 * time.Millisecond

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
		return reading{ok: true, rate: float64(d.limit-d.remaining) / refill.Seconds(), burst: int(max(d.limit, 1)), upper: true,
			coarse: d.gran >= coarseReset}, true
	}
	// A window of unknown length: what remains may all go before its end,
	// and when nothing remains the pause holds every request until then.
	// A rate would only slow the window down.
	return reading{}, false
}

// learnedLimit is one unit's limit from headers: the best estimate from the
// readings of the last second or two (a bucket's readings are upper bounds,
// each loose by its rounding: the least of the last two seconds' is the
// tightest, where the least of the last few answers, at 100 a second,
// often was not).
type learnedLimit struct {
	cur, prev struct {
		start time.Time
		v     float64 // the best reading in the slot
	}
	last  float64 // the latest reading
	burst int
	mode  reading // upper/latest of the readings held
	at0   time.Time
}

// learnedSlot is how long one slot of readings lasts.
const learnedSlot = time.Second

func (l *learnedLimit) add(r reading, now time.Time) {
	if r.upper != l.mode.upper || r.latest != l.mode.latest || r.coarse != l.mode.coarse || now.Sub(l.at0) > learnedTTL {
		// A different kind of reading, or stale ones: start over.
		l.cur.start, l.prev.start = time.Time{}, time.Time{}
	}
	l.mode = r
	if l.cur.start.IsZero() || now.Sub(l.cur.start) >= learnedSlot {
		l.prev, l.cur.start, l.cur.v = l.cur, now, r.rate
	} else {
		l.cur.v = l.better(l.cur.v, r.rate)
	}
	l.last = r.rate
	l.burst = r.burst
	l.at0 = now
}

// better is the better of two readings: the lower of upper bounds, the
// higher of lower ones.
func (l *learnedLimit) better(a, b float64) float64 {
	if l.mode.upper {
		return min(a, b)
	}
	return max(a, b)
}

// at is the limit at now, with headroom; 0 when there is none.
func (l *learnedLimit) at(now time.Time) (rate.Limit, int) {
	if l.cur.start.IsZero() || now.Sub(l.at0) > learnedTTL {
		return 0, 0
	}
	est := l.last
	if !l.mode.latest {
		est = l.cur.v
		if !l.prev.start.IsZero() && now.Sub(l.prev.start) < 2*learnedSlot {
			est = l.better(est, l.prev.v)
		}
	}
	if est <= 0 || math.IsInf(est, 0) || math.IsNaN(est) {
		return 0, 0
	}
	return rate.Limit(est * learnedHeadroom), burstHeadroom(l.burst)
}

// ticket is an attempt's place among its key's attempts: its send order
// (from 1), send time in Unix nanoseconds, and its cost in tokens as paced
// (1 when tokens are not).
type ticket struct {
	seq     uint64
	at      int64
	cost    int
	costSum uint64 // the costs of the key's attempts up to this one
	costed  bool   // cost was estimated (tokens were paced when its request was costed)
	counted bool   // counted by the key's windows (learning.take)
	// again: the request's 429s in a row before this attempt, each
	// followed by the server accepting an attempt of the key sent after it
	// (call.again): refused once more, improbably at the key's share of
	// 429s, it is the request the server refuses, not the key's pace
	// (pacer.learnRefusal). A byte, in the padding after the bools: a
	// key's estimate keeps a dozen tickets (its marks).
	again uint8
	// unseen: a retry after a 429 whose wait watched the key's answers
	// and saw none accepted for an attempt sent after it (call.watched):
	// a blip or a limit that dropped, never the request's own
	// (pacer.ownRefusals). In the padding too.
	unseen bool
}
