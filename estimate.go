package llmretry

import (
	"math"
	"time"
)

// The estimate after 429s that nothing explains. Each 429 is a moment when
// the server had nothing left for us, so what it accepted between two 429s,
// over the time between them, is its rate: its bucket was empty at both,
// and everything it accepted in between came from its refill (less, if it
// refilled to the brim meanwhile; and a window's rate shows only over
// several windows). Counting by the attempts' send order, not their
// answers, the measure holds when answers take long (an LLM's generation):
// an attempt not refused is taken as accepted.
//
// A first 429 starts the estimate from what the server accepted in the
// last second, and it grows fast (slow start, doubling) until the next. A
// later 429 sets it to the rate measured between 429s, with headroom, but
// to fairCut of the rate at most and half of it at least: a multiplicative
// decrease, which with the additive increase of a key held by its pace
// (grow) evens out the shares of processes that share a server without
// talking (AIMD). (A fleet's one estimate in redislimit, which has no
// shares to even out, cuts to the measure without the fairCut cap: its
// estimate.go says why.) A few 429s among many answers do not cut (a
// server that sheds load at random would drive the pace down without end),
// nor do many, once a cut has shown that the share refused does not change
// with the pace (noiseTest: random refusals, not a limit). Without a 429 for
// adaptiveQuiet, the estimate is dropped.
const (
	cutInterval         = 200 * time.Millisecond // the 429s of one burst count as one cut
	measuredCutInterval = time.Second            // after a slow start, one cut a second at most
	minMeasureSpan      = 250 * time.Millisecond // a measure spans at least this long
	maxMeasureSpan      = time.Minute            // and at most this long
	minMeasured         = 8                      // and rests on this many accepted, if the 429s seen allow
	outageSpan          = time.Second            // an outage shows over this long at least
	outageMin           = minMeasured            // and rests on this many attempts, all refused, as a measure on as many accepted
	outageChance        = 1e-5                   // and a run of refusals this improbable at the share the key had accepted before it
	outageLongRun       = 64                     // or this long, whatever that share
	outageAfterAll      = 24                     // or this long after a share of all accepted
	shareDecay          = 1 - 1.0/32             // the share accepted: each answer weighs this much less per answer since (≈ the last 32)
	shareTrust          = 4                      // answers' worth of the share accepted that the share after an accepted one is drawn towards
	markSpacing         = 100 * time.Millisecond // 429s kept to measure from are this far apart at least
	minRefusedShare     = 0.06                   // after a slow start, a cut needs 429s for this share of the attempts measured
	costlyPause         = 250 * time.Millisecond // or a pause this long
	cutFloor            = 0.5                    // a cut keeps at least half the rate
	fairCut             = 0.7                    // and at most this share of it (CUBIC's β)
	fairGrowth          = 8.0                    // requests/s a second: the additive increase of a key held by its pace
	slowDoubling        = 150 * time.Millisecond // a slow start doubles the rate this often
	probeGrowth         = 0.05                   // after a slow start, each answer adds this (5% a second, at any rate)
	maxEstimate         = 1e6                    // requests/s: the most an estimate grows to
	estimateTokenBurst  = 4                      // the tokens estimate's burst: this many requests' worth
	ceilingShare        = 0.99                   // up to this share of the rate measured
	ceilingHold         = 10 * time.Second       // and no further for this long after the cut, unless probing
	probeHold           = 300 * time.Millisecond // a key held by its pace probes this long after a cut without another
	probeAccel          = 2.0                    // its growth, relative a second, rises this much a second
	probeMax            = 4.6                    // up to this (≈ ln 2 / slowDoubling: a slow start's growth, doubling every 150 ms)
	probeRise           = 400.0                  // requests/s a second, added each second: the probe's absolute growth, the same for every key
	paceBoundFor        = 250 * time.Millisecond // a key is held by its pace if a request waited for it this recently
	paceBound           = 0.9                    // if the attempts measured went at this share of the pace at least
	adaptiveFloor       = 1.0                    // requests/s: the least a first cut starts from
	adaptiveQuiet       = 30 * time.Second       // without a cut for this long, the estimate is dropped
	burstShare          = 0.5                    // a 429 is part of a burst if 429s are this share of the last second's answers
	burstMin            = 3                      // and this many at least
	noiseSample         = 16                     // answers to attempts sent after a cut that test whether it changed the share refused
	noiseEvidence       = 4.0                    // log-likelihood for random refusals (noise) over a limit that settles it (e⁴ ≈ 55 to 1)
	noiseMaxAccepted    = 0.4                    // random refusals are evidence only while they refuse most (a fleet's process sharing a bucket sees a share refused that its own pace changes little)
	noiseDecay          = 1 - 1.0/256            // the noise's level: each answer weighs this much less per answer since
	noiseSigmas         = 3.0                    // a share refused this many standard deviations over the noise is a limit's again
)

// burstShare decides what a 429 is evidence of. A limit reached refuses in
// bursts: the requests sent past it are refused together, and 429s soon
// outnumber the answers of the second before. A server with room to spare
// that refuses some attempts at random (an upstream's overload, a shard's
// limit, a gateway in front of several backends) refuses one here and
// there, whatever the rate. A 429 whose only news is a wait hint (no
// rate-limit headers), while 429s are under burstShare of the key's answers
// of the last second, starts no estimate and pauses none of the key's other
// requests: its own request waits its hint, as an SDK's plain retry does.
// Pacing from such 429s and pausing the key for each (attack finding 1,
// issue 20: 10% of attempts refused at random with retry-after-ms: 1000,
// open loop 20/s, 50 ms answers) took a wall of 31.7 s and a p99 of 26.7 s
// where openai-go took 10.3 s and 1.1 s; now the same as openai-go
// (docs/runs/2026-12-06-sporadic.md). A bare 429 leaves nothing else to slow
// down with, and rate-limit headers name a limit: those start the estimate
// as before (the fleet's processes rely on it, claims_test.go), and a
// running estimate is cut as before. Half, not less: at 10% refused at
// random, ~22 answers a second, a quarter of them 429s follows 5% of the
// 429s; half of them, 1 in 80,000.

// mark is a 429 kept to measure from: its attempt's ticket, and the 429s
// seen up to and including it.
type mark struct {
	ticket
	refused     uint64
	refusedCost uint64 // the costs of the 429s seen up to and including it
}

// estimate is the request rate inferred from 429s.
type estimate struct {
	base        float64 // requests/s at the last cut; 0 when off
	cutAt       time.Time
	measured    bool      // past the slow start: grow slowly
	ceiling     float64   // the pace grows no further than this for ceilingHold after a cut; 0: no ceiling
	lastRefusal time.Time // the latest unexplained 429: probing starts probeHold after it
	outageSeq   uint64    // the send order of the attempt whose 429 showed the server taking nothing (outage); 0: none
	okSeq       uint64    // the send order of the latest attempt accepted
	run         mark      // the first 429 for an attempt sent after okSeq: a run of 429s starts

	// The outage rule's (blind, outage).
	share    answerShare // the key's answers, accepted and refused, over about the last 32
	runShare float32     // the share accepted when run began (before its first 429), or after an accepted answer if more

	refusedN    uint64  // 429s seen
	refusedCost uint64  // their costs
	costFrom    uint64  // the first attempt from which every cost is known; 0: none yet
	tok         float64 // tokens/s measured with the rate; 0 when none
	tokPerReq   float64 // tokens per request of the last measure
	marks       [8]mark // the latest 429s, markSpacing apart at least; a ring
	nmarks      int     // marks added; the newest is marks[(nmarks-1)%len]

	// Random refusals (noiseTest).
	nz *noiseState // made when an estimate first starts: a key paced by headers alone needs none
}

// answered is an answer the estimate counted: its attempt's send order and
// time, and whether it was accepted.
type answered struct {
	seq uint64
	at  int64
	ok  bool
}

// before is the share accepted of the latest answers to attempts sent
// since the estimate started, and the rate they were sent at (0, 0 for
// fewer than half a sample).
func (e *estimate) before() (share, sent float64) {
	z := e.nz
	var n, k int
	var first, last int64
	for i := 0; i < min(z.nrecent, len(z.recent)); i++ {
		a := z.recent[i]
		if a.seq <= z.startSeq {
			continue
		}
		if n == 0 || a.at < first {
			first = a.at
		}
		last = max(last, a.at)
		n++
		if a.ok {
			k++
		}
	}
	if n < noiseSample/2 || last <= first {
		return 0, 0
	}
	return float64(k) / float64(n), float64(n-1) / time.Duration(last-first).Seconds()
}

// noiseState is what noiseTest weighs.
type noiseState struct {
	noisy      bool                  // random refusals found: a share refused (level) that the pace does not change
	noiseUntil time.Time             // it holds until then
	noiseLLR   float64               // the evidence so far: log-likelihood of random refusals over a limit
	smp        noiseProbe            // the answers after the latest cut; from 0: none under way
	recent     [noiseSample]answered // the latest answers; a ring
	nrecent    int                   // answers added; the newest is recent[(nrecent-1)%len]
	startSeq   uint64                // the key's last attempt when the estimate started
	an, ak     float64               // answers to attempts sent since, and those accepted, decayed by noiseDecay an answer
}

// level is the share refused of the answers since the estimate started
// (an, ak): the noise's level once it is known.
func (z *noiseState) level() float64 {
	if z.an <= 0 {
		return 0
	}
	return 1 - z.ak/z.an
}

// noiseProbe is the sample of answers after a cut that noiseTest weighs.
type noiseProbe struct {
	from          uint64  // counts answers to attempts sent after this one (the key's last at the cut)
	pb            float64 // the share accepted measured at the cut
	sentBefore    float64 // attempts/s the measure at the cut was sent at
	n, k          int     // answers counted, and those accepted
	firstAt, last int64   // the earliest and latest send times counted (Unix ns)
}

// rate is the estimate at now, or 0 when it is off.
func (e *estimate) rate(now time.Time) float64 {
	if e.base <= 0 || now.Sub(e.cutAt) > adaptiveQuiet {
		return 0
	}
	return e.base
}

// grow raises the estimate for an answer accepted at now. Growth comes with
// the answers, not with time (as TCP's window grows with its
// acknowledgements): while nothing is sent (a pause, a quiet client) or
// answers take long, it waits. In a slow start, each answer adds what
// doubles the rate every slowDoubling; after, what adds probeGrowth a
// second, up to the ceiling while it holds.
//
// Then it probes, as TCP CUBIC does around the window of its last loss: a
// key held by its pace (bound) for probeHold after a cut without another
// stops trusting the ceiling and grows faster the longer no 429 comes
// (any unexplained 429 stops the probe where it is, cut or not), by
// probeAccel more each second, up to probeMax (e^probeMax a second), and
// by probeRise requests/s more each second in absolute terms if that is
// more: relative growth alone took a process left at 12/s by three
// leavers 2 s to take the freed capacity, and kept the ratio of the shares
// that probed together; absolute growth is the same for each. At 60
// requests/s more each second, the processes a departure left took 1–1.5 s
// to fill the server again (a 50/s gap: 8q + 30q² = 50 at q ≈ 1.2 s of
// probing), and every fleet of four lost that at each departure, the last
// one alone most of all (bench fleet ×4, window-over-bucket, inexact,
// retry-after: 1.10–1.19×, a third to two thirds of the time lost in the
// last process's climb alone); at 400, the same gap fills in half a second
// of probing. (Faster still, a slow start's doubling as soon as probeHold
// has passed, left one process of two at half its fair share over seconds
// 6–12 of TestPacingFleetSharesEvenOut.) Per answer,
// either step is probeMax at most, a slow start's: at e² a second (the cap
// before), a process starved to 1/s by its peers took 2.3 s to reach the
// server's 100/s once they left, with the server idle (bench fleet
// retry-after ×8: five of eight processes at 1–7/s over seconds 3–4). A
// server whose other clients left is found within about 2 s (issue 20: one
// process of four stayed at its share for 15 s with the server idle); a
// server still full answers the overshoot with 429s, and the cut goes back
// to the rate measured between them, the delivery rate (as BBR's
// bandwidth estimate, capped at fairCut of the rate).
//
// Between probes, a key held by its pace grows by fairGrowth requests/s a
// second whatever its rate, and ignores the ceiling: TCP's additive
// increase. Growth relative to the rate and cuts relative to it kept the
// shares of uncoordinated processes in the ratio they started with (the
// first to slow-start took 80–90% of the server for good, the others
// 1–3/s, and the fleet waited for the smallest); the same increase for
// each and a decrease in proportion to each (cut) even them out, as AIMD
// does for TCP flows on one link. A key not held by its pace (its demand is
// lower) keeps the slow growth: it has shown nothing about the server.
//
// An outage's probe ends at the first answer accepted for an attempt sent
// after the 429 that set it (seq later than outageSeq): see outage.
func (e *estimate) grow(now time.Time, bound bool, tk ticket) {
	defer func() { e.tok = e.base * e.tokPerReq }()
	seq := tk.seq
	e.okSeq = max(e.okSeq, seq)
	e.share.add(true)
	if e.sampled(tk, true, now) || e.testing() {
		return
	}
	if e.outageSeq > 0 && seq > e.outageSeq {
		e.base, e.measured, e.ceiling, e.outageSeq = 0, false, 0, 0
		return
	}
	since := now.Sub(e.cutAt)
	quiet := now.Sub(e.lastRefusal) // a 429 ends a probe where it is (as a loss ends TCP's)
	switch {
	case e.base <= 0:
	case !e.measured:
		e.base = min(e.base+math.Ln2/slowDoubling.Seconds(), maxEstimate)
	case bound && quiet >= probeHold:
		q := (quiet - probeHold).Seconds()
		step := min(probeGrowth+probeAccel*q, probeMax)                  // per answer: step a second, relative
		step = max(step, min((fairGrowth+probeRise*q)/e.base, probeMax)) // or the same for every key, absolute
		e.base = min(e.base+step, maxEstimate)
	case bound:
		e.base = min(e.base+probeGrowth+fairGrowth/e.base, maxEstimate) // per answer: fairGrowth a second
	case e.ceiling > 0 && since < ceilingHold:
		if e.base < e.ceiling {
			e.base = min(e.base+probeGrowth, e.ceiling)
		}
	default:
		e.base = min(e.base+probeGrowth, maxEstimate)
	}
}

// contended lets the estimate grow for a 429 that the key, held by its pace,
// got while the server accepted others of its attempts over the last
// second (accepted, their rate): the server is shared, and a key refused on
// most of its attempts (the one whose sends find the bucket emptied by the
// others' paces) would otherwise grow only with its rare successes and stay
// starved while the others grow. Only the additive increase, one answer's
// worth: the cut, at most once a second, still halves it at worst.
//
// At the floor (adaptiveFloor) it grows whatever was accepted, past its
// slow start or in it, unless the estimate is an outage's probe (outage):
// there the cut takes nothing more off, and the additive increase, the
// same 8 requests/s for each second between its attempts, is all that is
// left of AIMD. A key held at the floor while its peers' paces keep the
// bucket empty is refused on its one attempt a second, accepts nothing,
// and had no way up: a process of a fleet whose whole first wave was
// refused sat at 1/s until the others finished (bench fleet ×4 with
// whole-second hints: one process at 1/s for the first 2 s while another
// took the server; in TestPacingFleetStarvedProcessClimbs' simulation, 25
// of 480 processes under a quarter of their share over seconds 2–6, 11 at
// 0/s). Together with probeRise, which fills the server faster whenever a
// process leaves, it keeps the shares even (at probeRise's 400 without it,
// TestPacingFleetSharesEvenOut's processes fell to a sixth of their share).
// A server that refuses everything still answers it with
// 429s: the cut halves it back once a second, and an outage (a run of 429s
// naming no wait) makes it the outage's probe, which this leaves alone.
func (e *estimate) contended(accepted float64) {
	switch {
	case e.base <= 0 || e.testing():
		return
	case accepted > 0 && e.measured:
	case e.base <= adaptiveFloor && e.outageSeq == 0:
	default:
		return
	}
	e.base = min(e.base+fairGrowth/e.base, maxEstimate)
	e.tok = e.base * e.tokPerReq
}

// measure is the server's rate as the 429 for tk shows it against the
// 429s kept: what was accepted since the latest one at least minMeasureSpan
// before that rests on minMeasured accepted (else the earliest), per second,
// the share of the attempts sent since that were refused, the tokens
// accepted per request (0 unless every cost since is known), and the
// attempts it rests on. Zeros when no 429 kept is far enough back.
func (e *estimate) measure(tk ticket) (perSecond, refusedShare, tokPerReq, attempts float64) {
	for i := 0; i < min(e.nmarks, len(e.marks)); i++ {
		m := &e.marks[(e.nmarks-1-i)%len(e.marks)]
		span := time.Duration(tk.at - m.at)
		if span < minMeasureSpan || tk.seq <= m.seq {
			continue
		}
		if span > maxMeasureSpan {
			break // older ones are stale
		}
		sent := float64(tk.seq - m.seq)
		refused := min(float64(e.refusedN-m.refused)+1, sent) // and tk's own
		perSecond, refusedShare, tokPerReq, attempts = (sent-refused)/span.Seconds(), refused/sent, 0, sent
		if m.seq >= e.costFrom && e.costFrom > 0 && tk.costSum > m.costSum && sent > refused {
			accepted := float64(tk.costSum-m.costSum) - float64(e.refusedCost-m.refusedCost+uint64(max(tk.cost, 0)))
			tokPerReq = max(accepted, 0) / (sent - refused)
		}
		if sent-refused >= minMeasured {
			break
		}
	}
	return perSecond, refusedShare, tokPerReq, attempts
}

// blind reports whether the 429 for tk ends an outage's span: every attempt
// sent since the first 429 after the latest attempt accepted (run), for
// outageSpan at least and outageMin attempts, was refused, none in flight;
// and so many that the server does not take what it took before: a run
// this long has a chance under outageChance at the share of answers the key
// had accepted when it began (runShare), nothing accepted before it, or
// everything and the run is outageAfterAll long, or it is outageLongRun
// long (see outage); once random refusals are known (noiseTest), only a run
// improbable at their share.
func (e *estimate) blind(tk ticket) bool {
	if e.run.seq == 0 || e.run.seq <= e.okSeq || time.Duration(tk.at-e.run.at) < outageSpan {
		return false
	}
	sent := tk.seq - e.run.seq
	if sent < outageMin || e.refusedN-e.run.refused+1 < sent {
		return false
	}
	if e.nz != nil && e.nz.noisy && tk.at < e.nz.noiseUntil.UnixNano() {
		// Refusals known to come at random (noiseTest): a run is an
		// outage only if it is improbable at their share.
		return float64(sent+1)*math.Log(e.nz.level()) < math.Log(outageChance)
	}
	p := float64(e.runShare)
	if p <= 0 {
		return true
	}
	if p >= 1 {
		return sent >= outageAfterAll
	}
	return sent >= outageLongRun || float64(sent+1)*math.Log1p(-p) < math.Log(outageChance)
}

// mark counts the 429 for tk, keeping it to measure from if it is
// markSpacing after the newest kept.
func (e *estimate) mark(tk ticket) {
	e.refusedN++
	e.refusedCost += uint64(max(tk.cost, 0))
	if e.run.seq <= e.okSeq && tk.seq > e.okSeq {
		e.run, e.runShare = mark{tk, e.refusedN, e.refusedCost}, max(e.share.accepted(), e.share.together())
	}
	e.share.add(false)
	e.sampled(tk, false, time.Unix(0, tk.at))
	if e.nmarks > 0 && time.Duration(tk.at-e.marks[(e.nmarks-1)%len(e.marks)].at) < markSpacing {
		return
	}
	e.marks[e.nmarks%len(e.marks)] = mark{tk, e.refusedN, e.refusedCost}
	e.nmarks++
}

// cut lowers the estimate after an unexplained 429 at now; measured is the
// rate measured between 429s (0 if none), accepted the rate of answers
// other than 429 over the last second; lone: the 429 is one among answers
// (burstShare) with nothing but a wait hint, which starts no estimate.
func (e *estimate) cut(now time.Time, measured, refusedShare, attempts, accepted float64, pausedUntil time.Time, lone bool, sent uint64) {
	cur := e.rate(now)
	if e.nz != nil && e.nz.noisy && now.Before(e.nz.noiseUntil) {
		lv := e.nz.level()
		if measured <= 0 || refusedShare <= lv+noiseSigmas*math.Sqrt(lv*(1-lv)/attempts) {
			// The share the pace did not change (noiseTest): no cut, no
			// start, and the probe goes on (lastRefusal).
			e.nz.noiseUntil = now.Add(adaptiveQuiet)
			return
		}
		e.nz.noisy = false // more refused than the noise: a limit again
	}
	e.lastRefusal = now
	if cur <= 0 && lone {
		// No evidence of a limit (see burstShare): a pace started from
		// one 429 with retry-after-ms: 300 among 5 answers held the next
		// 20 requests, which the server answered at once, ~570 ms.
		return
	}
	interval := cutInterval
	if e.measured {
		interval = measuredCutInterval
	}
	if cur > 0 && e.measured && measured > 0 && refusedShare < minRefusedShare && pausedUntil.Sub(now) < costlyPause {
		// A few 429s among many answers, which hold nobody long: a
		// server that refuses some whatever the rate (shedding load), or
		// a pace just past the limit, which grows on until more are
		// refused. Cutting for them would drive the pace down without end.
		return
	}
	if cur > 0 && now.Sub(e.cutAt) < interval {
		// The 429s of a burst already cut for. The answers of a first
		// burst arrive together, 429s before some of the successes: the
		// start is what was accepted by the last of them.
		if !e.measured && accepted > e.base {
			e.base = accepted
		}
		return
	}
	e.cutAt = now
	if cur <= 0 {
		// Nothing known: start from what the server accepted, and grow.
		e.base, e.measured = max(accepted, measured*learnedHeadroom, adaptiveFloor), false
		e.tokPerReq, e.outageSeq = 0, 0
		if e.nz == nil {
			e.nz = &noiseState{}
		}
		e.nz.startSeq, e.nz.an, e.nz.ak = sent, 0, 0
		return
	}
	next := cur * cutFloor
	e.ceiling = 0
	if measured > 0 {
		next = max(next, min(measured*learnedHeadroom, cur*fairCut))
		// A ceiling only from a measure the pace bound: sent at the pace,
		// not below it (a client's own lull measures its demand, not the
		// server's rate).
		if refusedShare < 1 && measured/(1-refusedShare) >= paceBound*cur {
			e.ceiling = measured * ceilingShare
		}
	}
	e.base, e.measured = max(next, adaptiveFloor), true
	if e.ceiling <= e.base {
		e.ceiling = 0
	}
	if e.nz == nil {
		e.nz = &noiseState{}
	}
	if pb, rate := e.before(); e.nz.smp.from == 0 && pb > 0 {
		e.nz.smp = noiseProbe{from: sent, pb: pb, sentBefore: rate}
	}
}

// outage sets the estimate after an unexplained 429 at now for the attempt
// seq, one that names no wait, when the server took none of the key's
// attempts for outageSpan and outageMin attempts at least (blind: every
// one sent since the first 429 after the latest accepted was refused, none
// is in flight), and the run is no chance: the key had accepted nothing
// before it, or a run this long had a chance under outageChance (1 in
// 100,000) at the share of its last ~32 answers that were accepted when the
// run began, or it is outageLongRun attempts long. A rate measured between
// 429s is what the server accepted between them: here nothing. The
// estimate rests on no accepted answer and is no rate but a probe:
// adaptiveFloor whatever it was, its attempts at a random moment of each
// interval (pacer.probeAt), and it ends at the first answer accepted for an
// attempt sent after seq (grow): the server takes requests again, the
// requests it held go, and the next 429 starts the estimate over from what
// the server accepted.
//
// Before the probe (d75599a), refusals that no rate avoids (a server down,
// or one that answers only part of the time) halved the estimate once a
// second to the floor, where its probes went at exactly 1/s and it grew
// only with answers accepted: against a server that answers 400 ms of every
// 2 s, the 29 probes of a run all fell in the 1.6 s it refuses, nothing was
// accepted, and the requests queued behind the pace waited out their 30 s
// deadlines (attack 5, duty: 296–321 of 400 failed; openai-go's own
// retries, 165; with the probe, 1–10).
//
// The probe first took any run of outageMin refusals over outageSpan for
// an outage: a server that refuses 80% of attempts at random shows one
// from one start in six (0.8⁸ = 0.17), and the key was held at 1/s until a
// probe was accepted, then sent everything at once (attack 6, random80:
// 112–119 of 200 failed where the draws fail 106, and 109–113 before the
// probe; TestAttack6RandomRefusalsNoOutage: 58–123 accepted in 60 s where
// 7971eba had 103–168). The share accepted tells "nothing accepted" from
// "a little accepted, not lately": at 20% accepted, a run must be 52
// refusals long (0.8⁵² ≈ 1e-5); after one that took nothing, any run.
// After a server that took everything, outageAfterAll: at outageMin, a
// server degraded to a share accepted at random (attack 7 finding 2: 5% or
// 20% after 5 s of taking everything) showed one within a second (0.95⁸ =
// 0.66, 0.8⁸ = 0.17 a run), and the key probed at 1/s for the ~20 s or ~5 s
// until a probe was accepted; at 24 (0.29, 0.005), still 2.4 s at 10
// attempts a second for a server gone down (TestOutageAfterServerTookEverything).
//
// A 429 that names its wait is paused for (pacer.observe) and sets no
// outage: counted as one, the whole-second hints of a fleet sharing a key
// (bench fleet inexact ×8) took a starved process for a server down
// (1.08–1.24× against 1.04–1.07×). outageSpan and outageMin keep a process
// that shares a bucket with others, refused while they take it, from being
// held at the floor: at two attempts over a second,
// TestPacingFleetSharesEvenOut failed in one run of ten; at eight,
// processes of its simulation fall under a third of their share about as
// often as before (9 and 6 of 5,600 with other offsets).
func (e *estimate) outage(now time.Time, seq uint64) {
	if e.nz != nil {
		e.nz.smp = noiseProbe{}
	}
	e.lastRefusal, e.cutAt = now, now
	e.base, e.measured, e.ceiling, e.outageSeq = adaptiveFloor, true, 0, seq
}

// sampled counts the answer at now to the attempt tk (accepted if ok) in
// the sample after a cut, and when it is complete weighs it (noiseTest).
// It reports whether the estimate was dropped for random refusals.
func (e *estimate) sampled(tk ticket, ok bool, now time.Time) bool {
	z := e.nz
	if z == nil {
		return false
	}
	z.recent[z.nrecent%len(z.recent)] = answered{tk.seq, tk.at, ok}
	z.nrecent++
	if tk.seq > z.startSeq {
		z.an, z.ak = z.an*noiseDecay+1, z.ak*noiseDecay+b2f(ok)
	}
	m := &z.smp
	if m.from == 0 || tk.seq <= m.from {
		return false
	}
	if m.n == 0 || tk.at < m.firstAt {
		m.firstAt = tk.at
	}
	m.last = max(m.last, tk.at)
	m.n++
	if ok {
		m.k++
	}
	if m.n < noiseSample {
		return false
	}
	defer func() { z.smp = noiseProbe{} }()
	return e.noiseTest(*m, now)
}

// testing reports whether a sample after a cut is under way while the
// evidence leans to random refusals: the estimate then holds at the cut
// (grow, contended), so that the sample is sent at the rate cut to, not at
// the rate it grew back to (at ~16/s, the pace grew back within the 16
// answers, and the sample said nothing). A limit's evidence is negative
// after the first sample (the share accepted after a cut rises), so that
// a limit's pace grows as before.
func (e *estimate) testing() bool {
	return e.nz != nil && e.nz.smp.from > 0 && e.nz.noiseLLR > 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// noiseTest tells a server that refuses a share of attempts at random
// (overloaded, degraded: whatever the rate) from a limit, by what a cut
// does to the share it accepts. A limit accepts its rate whatever is sent:
// a key that sends at half the rate has twice the share of its attempts
// accepted (all of them, once under the limit). Random refusals accept the
// same share at any rate. Each measured cut is such an experiment: the
// share accepted measured at the cut (pb, sent at sentBefore a second) is
// compared with the share accepted of the next noiseSample answers to
// attempts sent after it (m.k of m.n, sent at the rate after the cut), and
// the log-likelihood of the two predictions (pb: random; pb × the ratio of
// the rates sent, at most all: a limit) is added to the evidence; a cut
// that changed nothing (the key sent at the same rate) weighs nothing. At
// noiseEvidence for random refusals, the estimate is dropped: the key goes
// at its demand, as an SDK's plain retries do, and a later 429 cuts or
// starts an estimate only if the share refused is over the share found
// (noise) by noiseSigmas standard deviations (cut); a run of refusals is
// an outage only if it is improbable at that share (blind). The evidence
// for a limit counts down to -noiseEvidence at most, so that a server
// that degrades later is found as fast. A sample in which nothing was
// accepted is no evidence of random refusals (a server gone down accepts
// nothing at any rate: the outage's rule is for it).
//
// Before (attack 7 finding 2: a server that took everything for 5 s, then
// accepted a fifth of attempts at random), each cut halved the pace to
// the rate accepted, a fifth of what was sent, and the additive increase
// brought back 8/s a second: the pace held at ~16/s whatever the demand,
// requests queued behind it until their deadline, and the run took 1.6–1.9×
// openai-go's wall with more failures
// (docs/runs/2026-12-07-degrade.md).
func (e *estimate) noiseTest(m noiseProbe, now time.Time) bool {
	if m.last <= m.firstAt || m.pb <= 0 || m.sentBefore <= 0 {
		return false
	}
	after := float64(m.n-1) / time.Duration(m.last-m.firstAt).Seconds()
	clamp := func(p float64) float64 { return min(max(p, 0.01), 0.99) }
	pr, pl := clamp(m.pb), clamp(m.pb*m.sentBefore/after)
	k, n := float64(m.k), float64(m.n)
	llr := k*math.Log(pr/pl) + (n-k)*math.Log((1-pr)/(1-pl))
	if llr > 0 && (m.k == 0 || m.pb > noiseMaxAccepted || k/n > noiseMaxAccepted) {
		return false
	}
	e.nz.noiseLLR = max(e.nz.noiseLLR+llr, -noiseEvidence)
	if e.nz.noiseLLR < noiseEvidence {
		return false
	}
	e.nz.noiseLLR = 0
	e.nz.noisy = true
	e.nz.noiseUntil = now.Add(adaptiveQuiet)
	e.base, e.measured, e.ceiling, e.outageSeq = 0, false, 0, 0
	return true
}

// answerShare counts a key's answers, accepted and refused, each weighing
// shareDecay less for each answer after it: the share the server accepted
// of about the last 1/(1−shareDecay); and, of the answers that came right
// after an accepted one, the share accepted (in the order the answers
// came): the same at random refusals, more when the server's acceptances
// come together (a server that answers part of the time, then refuses
// everything for a while).
type answerShare struct {
	acc, ref       float32 // answers accepted and refused, decayed
	after, okAfter float32 // answers after an accepted one, and those accepted, decayed
	lastOK         bool    // the latest answer was accepted
}

// add counts an answer: accepted if ok, else a 429.
func (s *answerShare) add(ok bool) {
	s.acc, s.ref = s.acc*shareDecay, s.ref*shareDecay
	if s.lastOK {
		s.after, s.okAfter = s.after*shareDecay+1, s.okAfter*shareDecay
		if ok {
			s.okAfter++
		}
	}
	if ok {
		s.acc++
	} else {
		s.ref++
	}
	s.lastOK = ok
}

// accepted is the share of the answers counted that were accepted (0 with
// none).
func (s answerShare) accepted() float32 {
	if s.acc+s.ref <= 0 {
		return 0
	}
	return s.acc / (s.acc + s.ref)
}

// together is the share accepted of the answers that came right after an
// accepted one, drawn towards the share accepted by shareTrust answers'
// worth (few answers after an accepted one say little): about accepted at
// random refusals, more when acceptances come in runs.
func (s answerShare) together() float32 {
	p := s.accepted()
	return (s.okAfter + shareTrust*p) / (s.after + shareTrust)
}

// probing reports whether the estimate in force at now is an outage's
// probe (see outage).
func (e *estimate) probing(now time.Time) bool {
	return e.outageSeq > 0 && e.rate(now) > 0
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

// add counts an answer at now: a 429 if refused, else an admitted one.
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

// refusedShare is the share of the answers over the last second that were
// 429s (0 without an answer).
func (w *admittedWindow) refusedShare(now time.Time) float64 {
	return w.refusedShareOver(now, time.Duration(len(w.slots))*admittedTick)
}

// refusedShareOver is the share of 429s among the answers of the last span
// (in whole ticks, the current one included; a second at most), or 0.
func (w *admittedWindow) refusedShareOver(now time.Time, span time.Duration) float64 {
	tick := now.UnixNano() / int64(admittedTick)
	n := min(max(int64(span/admittedTick), 1), int64(len(w.slots)))
	var a, r int32
	for _, s := range w.slots {
		if s.tick <= tick && s.tick > tick-n {
			a, r = a+s.admitted, r+s.refused
		}
	}
	if a+r == 0 {
		return 0
	}
	return float64(r) / float64(a+r)
}

// rate is the admitted answers per second over the last second (the tick
// under way and the nine before it).
func (w *admittedWindow) rate(now time.Time) float64 {
	return w.rateSince(now, time.Time{})
}

// rateSince is rate, over the time since from if that is shorter than the
// last second (and outvoteAfter at least): a key answered for 300 ms
// accepted what it did in 300 ms, not in a second.
func (w *admittedWindow) rateSince(now, from time.Time) float64 {
	ns := now.UnixNano()
	tick := ns / int64(admittedTick)
	a := 0
	for _, s := range w.slots {
		if s.tick <= tick && s.tick > tick-int64(len(w.slots)) {
			a += int(s.admitted)
		}
	}
	span := time.Duration(len(w.slots)-1)*admittedTick + time.Duration(ns%int64(admittedTick))
	if !from.IsZero() {
		span = min(span, max(now.Sub(from), outvoteAfter))
	}
	return float64(a) / span.Seconds()
}
