package llmretry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// pacer paces the requests of one key (a policy, host, credential and,
// under a policy that configures no limit, model):
// configured limits, limits learned from the server (learn.go), the server's
// pauses, and a cap on requests in flight. Its methods are safe for
// concurrent use and do nothing on a nil *pacer.
type pacer struct {
	key     string
	pol     *Policy
	limiter Limiter
	config  Pace // the configured limits, with headroom
	learn   bool
	// hintProbed: a request has probed hintEnd (guarded by mu); here,
	// beside learn, in its padding.
	hintProbed bool
	*seams     // the Transport's clock and timer (clock.go); nil means real time

	inflight *slots                // nil without MaxInFlight
	gate     atomic.Pointer[slots] // a shared Limiter's callers, one at a time, once requests are ordered (gate.go)

	lastUsed    atomic.Int64  // Unix nanoseconds of the last acquire or observe
	sent        atomic.Uint64 // attempts sent on the key: the last ticket's seq
	sentCost    atomic.Uint64 // their costs, as paced, summed: the last ticket's costSum
	pausedUntil atomic.Int64  // Unix nanoseconds: the end of the latest pause set here
	askedUntil  atomic.Int64  // Unix nanoseconds: the end of the latest pause a 429's explicit wait hint set (not a reset)
	waitedAt    atomic.Int64  // Unix nanoseconds: when a request last waited for a learned pace

	lrn atomic.Pointer[learning] // nil until a limit has shown itself

	// phase is this pacer's offset within a pace interval, drawn once: the
	// end of every pause on the key is shifted by phase intervals, so that
	// processes sharing a key, which cannot talk, do not all resume at the
	// whole second a shared hint names (see pause).
	phase float64

	mu       sync.Mutex     // guards admitted, hintEnd and hintProbed
	admitted admittedWindow // answers other than 429 over the last second

	hintEnd time.Time // the end of the latest coarse hint waited whole (hintProbe); hintProbed above

	wk atomic.Pointer[retryWaker] // nil until a retry may end its backoff early (retryWake)

	ln atomic.Pointer[line] // nil until a waiter is held by the estimate (waitLine)
}

func newPacer(pol *Policy, key string, mem *MemoryLimiter, clk *seams) *pacer {
	p := &pacer{key: key, pol: pol, limiter: pol.Limits.Limiter, config: pol.Limits.limit(),
		learn: !pol.Limits.DisableLearning, seams: clk}
	if p.limiter == nil {
		p.limiter = mem
	}
	if n := pol.Limits.MaxInFlight; n > 0 {
		p.inflight = newSlots(n, p.minShare())
	}
	p.lastUsed.Store(p.clock().UnixNano())
	return p
}

// acquire blocks until a request costing tokens may go, and takes its tokens
// (and its in-flight slot). A configured limit, or a pause the server named
// (a 429's wait hint), that would hold the request past its deadline fails
// it at once with ErrDeadline; a wait that a learned limit or window would
// impose beyond the deadline (or beyond MaxWait) is skipped, and the
// request goes to get the server's own answer.
func (p *pacer) acquire(ctx context.Context, tokens int, now time.Time) error {
	return p.acquireOr(ctx, tokens, now, 0)
}

// errPaused is acquireOr's answer, when asked to pass a pause over, for a
// key the server has paused.
var errPaused = errors.New("llmretry: the server paused the key")

// acquireHow says how acquireOr waits.
type acquireHow uint8

const (
	// passPause: a key that the server has paused fails the wait at once
	// with errPaused, instead of waiting out the pause.
	passPause acquireHow = 1 << iota
	// sentBefore: the request was sent before (a retry); it goes first in
	// the key's line (line.enter).
	sentBefore
)

// sentIf is sentBefore for an attempt after the first, else nothing.
func sentIf(attempt int) acquireHow {
	if attempt > 1 {
		return sentBefore
	}
	return 0
}

// acquireOr is acquire, waiting as how says.
func (p *pacer) acquireOr(ctx context.Context, tokens int, now time.Time, how acquireHow) error {
	if p == nil {
		return nil
	}
	p.lastUsed.Store(now.UnixNano())
	if p.inflight != nil {
		if err := p.inflight.acquire(ctx); err != nil {
			return err
		}
	}
	// Wait out the server's pause here, then take the limit in force after
	// it: a waiter holding the limit from before a pause would be released
	// with the herd. A window that holds the key (learning.held) is waited
	// out the same way.
	for {
		wait := time.Duration(p.resumeAt(now) - now.UnixNano())
		if wait <= 0 {
			break
		}
		if how&passPause != 0 {
			p.release()
			return errPaused
		}
		if deadline, ok := ctx.Deadline(); ok && now.Add(wait).After(deadline) {
			if until := p.askedUntil.Load(); until > deadline.UnixNano() {
				// The server named the wait, and the deadline ends inside
				// it: the request would get the 429 that set the pause, at
				// the cost of an attempt on a server that asked for quiet
				// (a worker pool with 10 s deadlines under a Retry-After of
				// 30 sent thousands a second, attack 7 finding 1).
				p.release()
				return fmt.Errorf("%w (the server paused the key for %v)", ErrDeadline,
					time.Duration(until-now.UnixNano()).Round(time.Millisecond))
			}
			return nil // a learned window's guess: the server's own answer
		}
		if err := p.wait(ctx, wait); err != nil {
			p.release()
			return err
		}
		now = p.clock()
	}
	lim, src := p.limit(now)
	if src == configured {
		if err := p.limiterWait(ctx, lim, tokens); err != nil {
			if lim.RequestRate <= 0 && lim.TokenRate <= 0 && errors.Is(err, ErrDeadline) && ctx.Err() == nil {
				// No rate: only a pause another process shared (a Limiter
				// in Redis) held it, and a pause never fails a request
				// for its deadline, as the loop above does for this one's.
				return nil
			}
			p.release()
			return err
		}
		return nil
	}
	// A guess: held for MaxWait at most, and never failed for the deadline.
	// Under the estimate, which grows, waits are taken in steps, so that a
	// waiter queued at a slow start goes at the rate reached since.
	end := now.Add(p.pol.maxWait())
	var held heldPlace // a head's place in the key's line, if this request holds one
	if src == estimated {
		// Only the line's heads ask the limiter; the others wait their
		// turn in line (line.go) until they would go unpaced.
		var err error
		if held, err = p.enterLine(ctx, now, end, float64(lim.RequestRate), how); err != nil {
			p.release()
			return err
		}
		defer held.leave()
		if t := p.clock(); t.After(now) {
			now = t
			lim, src = p.limit(now)
		}
	}
	for {
		step := end
		if src == estimated {
			step = minTime(step, now.Add(guessStep))
			p.lineStep(now, float64(lim.RequestRate))
		} else {
			// Not a step of the estimate's: a place held through it would
			// hold up the line's waiters, their own unpaced point included
			// (attack 14: a waiter went 2 s past it, behind heads waiting
			// at the headers' pace).
			held.leave()
			p.openLine(src)
		}
		final := !step.Before(end)
		if d, ok := ctx.Deadline(); ok {
			if src == estimated {
				d = d.Add(-guessReserve)
			}
			if !d.After(step) {
				step, final = d, true
			}
		}
		err := p.limiterWait(deadlineCtx{ctx, step}, lim, p.guessCost(tokens, lim, src, now))
		switch {
		case err == nil:
			held.leave() // its turn taken: the next in line asks
			if err := p.probeAt(ctx, lim, src); err != nil {
				p.release()
				return err
			}
			if t := p.clock(); t.Sub(now) >= paceWaitMin {
				p.waitedAt.Store(t.UnixNano()) // held by the pace: the estimate may probe (estimate.grow)
			}
			return nil
		case !errors.Is(err, ErrDeadline) || ctx.Err() != nil:
			p.release()
			return err
		case final:
			// A guess never fails a request: it goes, and gets the
			// server's answer. It was held by the pace up to its end.
			p.waitedAt.Store(now.UnixNano())
			return nil
		}
		// Held by the pace from now on, as much as one whose wait has
		// ended: at 1/s, waits end a second apart, and the answer to the
		// first request after a pause (sent at once, on the burst's token,
		// while the others queued) was taken as demand-bound, grew the
		// estimate 5% a second instead of probing, and held the next
		// request a whole second (bench fleet retry-after ×8: five
		// processes sent one request a second with the server idle).
		p.waitedAt.Store(now.UnixNano())
		if err := p.wait(ctx, step.Sub(now)); err != nil {
			p.release()
			return err
		}
		now = p.clock()
		lim, src = p.limit(now)
	}
}

// probeAt holds a request that the estimate's probe of an outage lets go
// (estimate.outage) for a random share of the probe's interval, so that the
// probes go at random moments: a probe at exactly 1/s samples a server that
// answers part of the time at the same phase of its cycle every time (at
// one 2 s cycle, every probe of 29 fell in the 1.6 s it refuses), where
// probes at random moments see it answer as often as it does.
func (p *pacer) probeAt(ctx context.Context, lim Pace, src limitSource) error {
	if src != estimated || lim.RequestRate <= 0 {
		return nil
	}
	if l := p.lrn.Load(); l == nil || !l.probing(p.clock()) {
		return nil
	}
	return p.wait(ctx, time.Duration(p.random()*float64(time.Second)/float64(lim.RequestRate)))
}

// guessCost is what a request costing tokens is charged under lim, the pace
// in force from src: its cost, but under a tokens pace that is the
// estimate's (no header announces one), a request costing more than the
// estimate's burst is charged one request's worth, as the request pace
// counts it. The estimate measured what the key's requests cost on average,
// and its burst is a few of them, not the server's: a prompt many times
// larger waited for a full bucket and left the rest as a debt, holding the
// small requests queued behind it for seconds although the server took
// them at once (a 2,500-token prompt among 100-token ones against a bucket
// of 1,500 tokens a second, bare 429s: p99 6-10 s where openai-go's was
// 1.4 s). Whether the server takes such a prompt is its answer's to say.
func (p *pacer) guessCost(tokens int, lim Pace, src limitSource, now time.Time) int {
	if src != estimated || p.config.TokenRate > 0 || lim.TokenRate <= 0 || tokens <= lim.TokenBurst {
		return tokens
	}
	if l := p.lrn.Load(); l == nil || !l.tokensEstimated(now) {
		return tokens
	}
	return max(lim.TokenBurst/estimateTokenBurst, 1)
}

// paceWaitMin is the least wait for a learned pace that shows the key is
// held by it, not by its demand.
const paceWaitMin = 200 * time.Microsecond

// guessStep is how long a waiter under the estimate waits before it looks
// at the rate again.
const guessStep = 100 * time.Millisecond

// guessReserve is the time before its deadline at which a request held by
// the estimate goes anyway: a guess never fails a request, and it goes
// with time left for its retries (the default backoff's two steps, 0.75–1.5
// s, and their answers), as an SDK's plain retries would have had. Held to
// the deadline itself, a request sent once at 29.9 s of 30 got the server's
// answer and no retry: against a server that accepts a share of attempts at
// random, each such request had one draw where openai-go's had three
// (attack 7 finding 2, docs/runs/2026-12-07-degrade.md).
const guessReserve = 2 * time.Second

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// deadlineCtx is ctx with an earlier deadline, without a timer: a Limiter
// only compares its waits with the deadline.
type deadlineCtx struct {
	context.Context
	d time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.d, true }

// release frees the request's in-flight slot.
func (p *pacer) release() {
	if p == nil || p.inflight == nil {
		return
	}
	p.inflight.release()
}

// holdsSlots reports whether requests hold an in-flight slot until their
// response body is closed.
func (p *pacer) holdsSlots() bool { return p != nil && p.inflight != nil }

// limitSource is where the pace in force comes from.
type limitSource uint8

const (
	configured limitSource = iota // the policy's Limits (or nothing): waits are certain
	learned                       // rate-limit headers: a guess
	estimated                     // the estimate after 429s, which grows: a guess
)

// limit is the pace in force at now: configured dimensions win over learned
// ones, and src says which kind of knowledge it rests on.
func (p *pacer) limit(now time.Time) (lim Pace, src limitSource) {
	lim = p.config
	// What a Limiter shared by processes is told of the pace (Pace.Learned,
	// Pace.Estimated): every rate of an estimate is this process's share.
	lim.Learned = p.learn && p.config.RequestRate <= 0
	if !p.learn {
		return lim, configured
	}
	got, est := p.learnedLimit(p.lrn.Load(), now)
	if lim.RequestRate <= 0 && got.RequestRate > 0 {
		lim.RequestRate, lim.RequestBurst, src = got.RequestRate, got.RequestBurst, learned
		if est {
			src = estimated
		}
	}
	if lim.TokenRate <= 0 && got.TokenRate > 0 {
		lim.TokenRate, lim.TokenBurst = got.TokenRate, got.TokenBurst
		src = max(src, learned)
	}
	lim.Estimated = src == estimated && p.config.TokenRate <= 0
	return lim, src
}

// pacesTokens reports whether requests need a token cost estimate.
func (p *pacer) pacesTokens() bool {
	if p == nil {
		return false
	}
	if p.config.TokenRate > 0 {
		return true
	}
	l := p.lrn.Load()
	return p.learn && l != nil && l.pacesTokens(p.clock())
}

// send gives the attempt about to be sent at now, costing tokens (costed:
// estimated, not the 1 of a request whose tokens are not paced), its ticket, and counts it against the windows the key has learned: if it
// takes the last of one's allowance, the key pauses until the window ends.
func (p *pacer) send(ctx context.Context, now time.Time, tokens int, costed bool) ticket {
	if p == nil {
		return ticket{}
	}
	tk := ticket{seq: p.sent.Add(1), at: now.UnixNano(), cost: tokens, costed: costed, costSum: p.sentCost.Add(uint64(max(tokens, 0)))}
	if l := p.lrn.Load(); l != nil && p.learn {
		if until, full := l.take(&tk, now); full {
			p.pause(ctx, now, until.Sub(now))
		}
	}
	return tk
}

// observe learns from the outcome at now of the attempt sent with tk. The
// rate-limit headers are read once: classify has read an error answer's
// (v.rate), and a success's are read here.
func (p *pacer) observe(ctx context.Context, resp *http.Response, v Verdict, tk ticket, now time.Time) {
	if p == nil {
		return
	}
	p.lastUsed.Store(now.UnixNano())
	hdr := v.rate
	var read rateHeaders
	if hdr == nil && resp != nil && v.Status < 400 {
		read = readRateHeaders(resp.Header, now)
		if read.any() {
			hdr = &read
		}
	}
	limited := v.Class == ClassRateLimited
	lone := false // a 429 among answers, not one of a burst (burstShare)
	if v.Status > 0 {
		p.mu.Lock()
		p.admitted.add(now, limited)
		lone = limited && p.admitted.refusedShare(now) < burstShare
		p.mu.Unlock()
	}
	if p.learn {
		if hdr != nil {
			p.learning().read(hdr, now)
		}
		if l := p.lrn.Load(); l != nil {
			ans, recent := answerOther, 0.0
			switch {
			case limited:
				ans = answerRefused
				p.mu.Lock()
				recent = p.admitted.rate(now)
				p.mu.Unlock()
			case v.Status > 0 && v.Status < 400:
				ans = answerOK
			}
			l.readWindows(hdr, tk, ans, recent, now)
		}
		if limited {
			p.learnRefusal(ctx, v, hdr, tk, now, lone && hdr == nil && v.hinted())
		} else if v.Class == ClassOK {
			// Not an error answer: an overloaded server must not speed the pace up.
			if l := p.lrn.Load(); l != nil {
				l.accepted(now, p.bound(now), tk)
			}
			p.shareAccepted(tk)
			p.noteAccepted(tk.seq)
			p.noteAgain(tk, now, false, -1)
		}
	}
	if !limited && hdr == nil {
		return
	}
	// The server's pause. A pace in force (configured, learned or
	// estimated) releases the waiters after it one by one, so that a hint
	// rounded up to whole seconds pauses them only for the time the server
	// surely meant: a second less. The refused request itself waits for
	// the whole hint (see Transport). A lone 429 among answers pauses
	// nobody else (burstShare): the server took the others, and a pause
	// for each of a server's random refusals held all its requests (learning
	// off, 10% of attempts refused with retry-after-ms: 1000: p50 580 ms
	// where openai-go's was 51 ms). A burst's does: the requests queued
	// behind it would be refused together, and retry together.
	paced := p.paced(now)
	if limited && v.hinted() && !lone {
		d := v.RetryAfter
		if paced && v.Hint == hintRetryAfter && resp != nil && coarseRetryAfter(resp.Header) {
			d -= time.Second
		}
		if until, ok := p.pause(ctx, now, d); ok && v.Hint != hintReset {
			storeLater(&p.askedUntil, until)
		}
	}
	if hdr != nil {
		win := [2]bool{true, true}
		if l := p.lrn.Load(); l != nil && p.learn {
			win = l.windowsTrusted(now)
		}
		if d, ok := hdr.exhaustedWait(paced, win); ok {
			p.pause(ctx, now, d)
		}
	}
}

// learnRefusal learns from a 429. It is unexplained, and cuts the
// estimate, unless the key is paced by a configured limit (trusted: a 429
// under it is network jitter or another client) or its headers show a
// limit with little left that paces the key: a window's, which pauses it
// until the window ends, or a bucket's whose rate is learned. A
// LearningLimiter is told of an unexplained one (learninglimiter.go).
// lone: a 429 among answers with nothing but a wait hint (burstShare),
// which starts no estimate here (the fleet's, held by a LearningLimiter,
// measures the 429s of every process, where one is no longer lone).
//
// Nor is a 429 unexplained when it is the request's own (ownrefusal.go):
// a retry's refused again and again, each time after the server accepted
// an attempt of the key sent after the request's previous 429
// (ticket.again), more often than the key's share of 429s makes likely
// (ownRefusal); or a bare 429 on a key whose retries are so refused again
// far more often than that (ownRefusals), unless it is a retry's whose
// wait saw nothing accepted (ticket.unseen).
func (p *pacer) learnRefusal(ctx context.Context, v Verdict, hdr *rateHeaders, tk ticket, now time.Time, lone bool) {
	p.mu.Lock()
	accepted, refusedShare := p.admitted.rate(now), p.admitted.refusedShare(now)
	p.mu.Unlock()
	unexplained := p.config.RequestRate <= 0 && p.config.TokenRate <= 0
	if unexplained && hdr != nil {
		l := p.learning()
		req, tok := l.trusted(now)
		p.mu.Lock()
		since := p.admitted.rateSince(now, l.bornAt())
		p.mu.Unlock()
		if req && l.outvoteBucket(now, since) {
			req = false
		}
		unexplained = !hdr.explains(req, tok, l.windowsTrusted(now), tk.cost)
	}
	p.noteAgain(tk, now, true, refusedShare)
	if unexplained && tk.again > 0 && ownRefusal(refusedShare, tk.again) {
		unexplained = false
	}
	if unexplained && !v.hinted() && !tk.unseen && p.ownRefusals(now, refusedShare) {
		unexplained = false
	}
	p.learning().refused(tk, now, unexplained, accepted, time.Unix(0, p.pausedUntil.Load()), p.bound(now), lone, v.hinted(), p.sent.Load())
	if unexplained {
		p.shareRefused(ctx)
	}
}

// bound reports whether the key's requests have been waiting for a learned
// pace at now: it, not their demand, sets their rate.
func (p *pacer) bound(now time.Time) bool {
	return now.UnixNano()-p.waitedAt.Load() < int64(paceBoundFor)
}

// paced reports whether a pace holds the key's requests at now.
func (p *pacer) paced(now time.Time) bool {
	lim, _ := p.limit(now)
	return lim.RequestRate > 0 || lim.TokenRate > 0
}

// hintWait is how long a request refused with v (resp) waits before its
// retry, given the wait its hint set. Under a pace the key estimated from
// the server's own answers (measured between 429s, not a first guess), a Retry-After in whole seconds is a claim
// rounded up by up to a second: the retry waits what the server surely
// meant, a second less, and then its turn at the pace, as the requests the
// hint paused do (see observe). A gateway rounding a 10 ms wait up to
// "1" otherwise holds every refused request a second, the run's tail
// among them.
func (p *pacer) hintWait(resp *http.Response, v Verdict, wait time.Duration, now time.Time) time.Duration {
	if p == nil || resp == nil || v.Hint != hintRetryAfter || wait < time.Second || !coarseRetryAfter(resp.Header) {
		return wait
	}
	if !p.learn {
		return wait
	}
	if _, src := p.limit(now); src != estimated {
		return wait
	}
	if !p.estimateMeasured(now) && !p.hintProbe(now, wait) {
		return wait
	}
	return wait - time.Second
}

// backoffStep is the step of the default backoff that a request refused
// with v, which named no wait (or a reset too far to wait for), waits
// before its retry number retry. It is retry, the backoff doubling with
// each failure, except for a 429 that is the key's pace contending for a
// server that takes most of its answers: the key is paced by an estimate
// measured between 429s, and 429s are under burstShare of its answers of
// the last contentionSpan. Then the retry waits the first step (250–500 ms
// by default) however many times it was refused, and its turn at the pace:
// the pace spaces the key's attempts, and every such 429 cuts it, while a
// backoff doubling with each 429 of one request only left the unlucky ones
// asleep at the end (8 processes sharing a key with bare 429s: 5.5 s at the
// server's rate, then 3 s on the few requests in their third or fourth
// backoff; bench fleet bare ×8 1.30–1.48×). The backoff still doubles, once
// (maxPacedStep), for a server that refuses most of what the key sends (a
// blip, an outage, a limit that dropped: its 429s come among 429s), as an
// SDK's second retry does: without it, retries at once used up a request's
// attempts inside a 400 ms blip that the doubling outlives (attack 5). So do other failures, a first
// guess (a lone caller refused once), a configured pace (a 429 under it is
// another client or jitter), and a policy's own Backoff function.
func (p *pacer) backoffStep(pol *Policy, v Verdict, retry int, now time.Time) int {
	if p == nil || !p.learn || retry <= 1 || v.Class != ClassRateLimited || pol.Backoff != nil {
		return retry
	}
	if _, src := p.limit(now); src != estimated || !p.estimateMeasured(now) {
		return retry
	}
	p.mu.Lock()
	share := p.admitted.refusedShareOver(now, contentionSpan)
	p.mu.Unlock()
	if share >= burstShare {
		return min(retry, maxPacedStep)
	}
	return 1
}

// retryWake reports whether the retry of a request refused at now with v
// may end its backoff early (see acceptedAfter), and since, the last
// attempt sent on the key by then: the backoff ends as soon as the server
// accepts an attempt sent after since. It may for an unexplained 429 (no
// hint) on a key paced by the fleet's estimate (a LearningLimiter's).
//
// Why: the fleet's pace probes a few percent over the server's rate and
// is cut by the 429s it draws (redislimit's estimate.go). Mid-run, a
// request refused so sleeps its backoff (250–500 ms) while the fleet's
// other requests keep the server busy; at the run's end, the last requests
// refused sleep it with the server idle (bench fleet, bare 429s on
// redislimit: 0.2–0.5 s of a 6 s run, 1.02–1.09×). An answer accepted for
// an attempt sent after the 429 shows the server takes requests at the
// cut pace: the refused one then goes at its turn at that pace (its
// reservation, behind the requests already waiting) rather than after a
// backoff nobody needs. A blip, an outage, a limit that dropped refuse
// everything sent after the 429: no answer wakes the retry, which sleeps
// its whole backoff, as before (retrying at once used up a request's
// attempts inside a 400 ms blip: docs/runs/2026-12-07-tail.md). The
// evidence is this process's own answers, and, when the Limiter is a
// fleetWaker (redislimit's), the fleet's other processes' too: an attempt
// any of them sent after the 429 and the server accepted.
func (p *pacer) retryWake(v Verdict, now time.Time) (since uint64, ok bool) {
	if p == nil || !p.learn || v.Class != ClassRateLimited || v.hinted() || p.pol.Backoff != nil {
		return 0, false
	}
	s := p.sharedLearner()
	if s == nil {
		return 0, false
	}
	if e, _ := s.Estimate(p.key); e <= 0 {
		return 0, false
	}
	// The waker first, then since: an attempt sent after since is
	// observed with the waker in place.
	if p.wk.Load() == nil {
		p.wk.CompareAndSwap(nil, &retryWaker{})
	}
	return p.sent.Load(), true
}

// retryWaker is what a key's retries waiting for an accepted answer share
// (pacer.retryWake); made for the first of them, so that a key that never
// needs it costs a pointer.
type retryWaker struct {
	okSeq   atomic.Uint64 // the highest ticket seq of an attempt the server accepted
	waiting atomic.Bool   // a retry waits for okSeq to move
	mu      sync.Mutex    // guards wake and own
	wake    chan struct{} // closed when okSeq moves; nil while no retry waits for it
	own     ownTally      // the key's retries after an accepted attempt, refused again or not (ownRefusals)
}

// noteAccepted records that the server accepted the attempt of ticket
// seq, and wakes the retries waiting for it (acceptedAfter).
func (p *pacer) noteAccepted(seq uint64) {
	w := p.wk.Load()
	if w == nil {
		return
	}
	for {
		cur := w.okSeq.Load()
		if seq <= cur {
			return
		}
		if w.okSeq.CompareAndSwap(cur, seq) {
			break
		}
	}
	if !w.waiting.Load() { // the common case: no lock
		return
	}
	w.mu.Lock()
	if w.wake != nil {
		close(w.wake)
		w.wake = nil
	}
	w.waiting.Store(false)
	w.mu.Unlock()
}

// acceptedSince reports whether the server has accepted an attempt sent
// after the one of ticket since, without waiting (retryWake made the
// waker).
func (p *pacer) acceptedSince(since uint64) bool {
	w := p.wk.Load()
	return w != nil && w.okSeq.Load() > since
}

// acceptedAfter returns done if the server has accepted an attempt sent
// after the one of ticket since; else a channel closed when it may have
// (the next accepted answer: check again). retryWake made the waker.
func (p *pacer) acceptedAfter(since uint64) (wake <-chan struct{}, done bool) {
	w := p.wk.Load()
	w.mu.Lock()
	defer w.mu.Unlock()
	// waiting is set before okSeq is read: an answer noted after the read
	// sees it, and closes wake.
	w.waiting.Store(true)
	if w.okSeq.Load() > since {
		return nil, true
	}
	if w.wake == nil {
		w.wake = make(chan struct{})
	}
	return w.wake, false
}

// maxPacedStep is the longest step of the backoff under a measured pace
// (500 ms–1 s by default): 429s among 429s double it once, as an SDK's
// second retry does, and no further, as the pace, cut by each of them,
// bounds what the key sends. Doubling on (1–2 s, 2–4 s) left a fleet's
// last requests asleep whenever a process's own recent answers were mostly
// 429s for a moment (bench fleet bare ×8: 1.23–1.38× in two of five runs).
const maxPacedStep = 2

// contentionSpan is how far back backoffStep looks for the key's answers.
const contentionSpan = 500 * time.Millisecond

// hintProbe reports whether a request refused at now with a coarse hint of
// wait, under a first guess of the estimate, is the key's probe of the
// hint: the first refused while another's whole hint runs. The others wait
// the whole hint (a lone 429's is the provider's documented wait, and a
// window that reopens at the whole second refuses anything sooner); the
// probe waits a second less, and its turn at the pace. A bucket that
// rounded 10 ms up to "1" accepts it, and the key's pace goes on from its
// answer: without it, every worker of a key refused in the first wave
// slept the whole second with the server idle (bench fleet retry-after,
// ×1 1.19×, ×8 1.27×: nothing sent from 0.05 s to 1 s).
func (p *pacer) hintProbe(now time.Time, wait time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.hintEnd) && !p.hintProbed {
		p.hintProbed = true
		return true
	}
	if end := now.Add(wait); end.After(p.hintEnd) {
		p.hintEnd, p.hintProbed = end, false
	}
	return false
}

// coarseRetryAfter reports whether h's Retry-After is in whole seconds
// (delta-seconds without a fraction, or an HTTP-date): rounded, up to a
// second later than the server's own time.
func coarseRetryAfter(h http.Header) bool {
	v := h[hdrRetryAfter]
	return len(v) > 0 && !strings.Contains(v[0], ".")
}

// learning returns the key's learning state, making it on first use.
func (p *pacer) learning() *learning {
	if l := p.lrn.Load(); l != nil {
		return l
	}
	p.lrn.CompareAndSwap(nil, &learning{})
	return p.lrn.Load()
}

// resumeAt is when requests on the key may go again at now (Unix
// nanoseconds): the end of its pause, or of a learned window that holds it
// with no room (learning.held) if that is within the policy's MaxWait. It
// is at most now when nothing holds the key.
func (p *pacer) resumeAt(now time.Time) int64 {
	at := p.pausedUntil.Load()
	if at > now.UnixNano() || !p.learn {
		return at
	}
	if l := p.lrn.Load(); l != nil {
		if until, ok := l.held(now); ok && until.Sub(now) <= p.pol.maxWait() {
			at = max(at, until.UnixNano())
		}
	}
	return at
}

// pause holds every request on the key for d. A wait longer than the
// policy's MaxWait is not a pause but a refusal: like the request that got
// it, the others go on and get the server's answer at once.
//
// It returns the pause's end, and false if d set none.
func (p *pacer) pause(ctx context.Context, now time.Time, d time.Duration) (time.Time, bool) {
	if d <= 0 || d > p.pol.maxWait() {
		return time.Time{}, false
	}
	until := now.Add(d + p.offset(now))
	storeLater(&p.pausedUntil, until)
	p.limiter.Pause(ctx, p.key, until)
	return until, true
}

// storeLater sets at to t (Unix nanoseconds) unless it holds a later time.
func storeLater(at *atomic.Int64, t time.Time) {
	for {
		cur := at.Load()
		if cur >= t.UnixNano() || at.CompareAndSwap(cur, t.UnixNano()) {
			return
		}
	}
}

// offset is how much later than the server's time this pacer ends a pause:
// its phase of the pace interval in force at now. Hints name whole seconds,
// and every process sharing a key reads the same one: resuming at phase ×
// interval, each at its own, the fleet's first requests after the pause go
// an interval apart on average instead of together (each pacer releases
// the rest at its pace). Only a fast pace gets one (an interval of
// maxPauseOffset at most): under a slow one, the few processes that resume
// together send one request each, and the pause stays as the server said.
func (p *pacer) offset(now time.Time) time.Duration {
	lim, _ := p.limit(now)
	if lim.RequestRate <= 0 || p.phase <= 0 {
		return 0
	}
	interval := time.Duration(float64(time.Second) / float64(lim.RequestRate))
	if interval > maxPauseOffset {
		return 0
	}
	return time.Duration(p.phase * float64(interval))
}

// maxPauseOffset is the longest pace interval a pause is offset within.
const maxPauseOffset = 50 * time.Millisecond

// idle reports whether the pacer has been unused for pacerIdle at now and
// holds nothing, so that it may be forgotten.
func (p *pacer) idle(now time.Time) bool {
	return now.UnixNano()-p.lastUsed.Load() > int64(pacerIdle) && p.inflight.held() == 0
}
