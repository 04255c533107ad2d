package llmretry

import (
	"math"
	"time"
)

// A request's own 429s. A server may refuse a request for itself (its
// prompt, its account's concurrency, a replica that is busy for it) while
// it takes the key's others. On a key paced by a fleet's estimate (a
// LearningLimiter's), each such 429 told to the fleet cuts the pace every
// process sends at, to the rate accepted between 429s: the pace's own rate
// less the share the server refuses for itself, so every cut lands below
// the pace, and the fleet settles under the server's rate with the server
// refusing nothing for the pace. Two rules keep such 429s from the fleet
// (pacer.learnRefusal); both need the evidence that a retry brings, and
// both are off where that evidence is not kept (a key with no shared
// estimate: its own estimator tests its 429s for noise, estimate.go).
//
//   - ownRefusal, one request: a retry refused again, after the server
//     accepted an attempt of the key sent after the request's previous 429
//     (ticket.again), improbably often at the key's share of 429s.
//   - ownRefusals, the key: its retries so refused again, over the last
//     three or four seconds, far more often than its share of 429s makes
//     likely. A limit the pace overruns refuses a retry as it refuses any
//     attempt: at its share. A server that refuses requests for
//     themselves refuses their retries again: then a key's 429s, first
//     ones included, are most likely its requests' own, and none cuts the
//     fleet's pace, as long as there are no more of them than two for
//     each request so refused (its first, and one the pace drew). The
//     pace then probes up until the 429s it draws, whose retries the
//     server takes, outnumber them, and the rule lets the cuts back.
//
// Zero-config redislimit, 4 processes, every 20th request refused for
// 1.5 s, 10 retries: see docs/runs/2026-12-07-ownrefusals.md.

// ownChance is how improbable a request's run of 429s must be, at the
// key's share of 429s, for its latest to be the request's own (ownRefusal).
const ownChance = 0.05

// ownRefusal reports whether a request's 429 is its own, not the key's
// pace's: the server accepted an attempt of the key sent after each of the
// request's again 429s in a row before it, and such a run, again more
// refusals after the first, comes by chance with a probability under
// ownChance when the key draws a share refused of its answers' 429s
// (the last second's, this one's included). The first 429 cut the
// estimate already; the request's retries, refused for it, cut it again
// and again: a zero-config fleet on redislimit, every 20th request
// refused for 1.5 s, took 2.13–2.46× where openai-go took 1.55–2.27×. A
// 429 after another that nothing accepted came between (a blip, a limit
// that dropped) is never the request's own; nor, at a share of 429s
// as high as a pace well over the server's draws, a run of a few.
// Skipping every such 429, not only the improbable ones, left the fleet's
// pace over the server: after its first wave (3 s deadlines: up to five
// times the 429s), and under a limit that fell to a fifth (attack 12: 11–23
// failed of 600 where main failed 2–8). With the gate, the fleet failed
// 1–4 of 600 with 3 s deadlines where it had 0–14, and the first case
// took 1.91–2.21× where it took 1.77–2.69× (docs/runs/2026-12-07-ownrefusal.md).
func ownRefusal(refused float64, again uint8) bool {
	return math.Pow(refused, float64(again)) < ownChance
}

// ownRefusalsMin is how many of a key's retries refused again, over its
// tally (ownTally), show that its refused requests are refused for
// themselves (ownRefusals); ownRefusalsExcess, how many times the count
// its share of 429s makes likely they must be; ownMaxShare, the key's share
// of 429s above which its 429s are the pace's whatever the tally says (a
// limit that drops refuses retries too, and raises the share within the
// second). A retry answered at a higher share is not counted: a first
// wave's, refused again or not, says nothing of the requests refused later.
const (
	ownRefusalsMin    = 5
	ownRefusalsExcess = 3
	ownMaxShare       = 1.0 / 3
	// ownFirstsMax is how many of the key's other 429s (first attempts,
	// and retries with no accepted attempt seen since their 429) each
	// request refused for itself may explain: its own first 429, and as
	// many again the pace drew. A key with more has a limit the pace
	// overruns beside the requests refused for themselves, and its 429s
	// go to the fleet (attack 13: 36 429s of a limit at 0.8×, on requests
	// sent once, hidden behind 6 requests refused for themselves).
	ownFirstsMax = 2
)

// ownRefusals reports whether the key's 429s at now, with the key's share
// of 429s over the last second refused, are most likely its requests'
// own: of its retries sent after their request's 429 and an attempt of the
// key the server accepted (ticket.again), over the last few seconds, at
// least ownRefusalsMin and half were refused again, and ownRefusalsExcess
// times as many as the key's share of 429s made likely (the share at each
// answer, or now's if higher); and its other 429s are at most
// ownFirstsMax for each request so refused.
func (p *pacer) ownRefusals(now time.Time, refused float64) bool {
	if refused > ownMaxShare {
		return false
	}
	w := p.wk.Load()
	if w == nil {
		return false
	}
	w.mu.Lock()
	n, k, likely, firsts, runs := w.own.sum(now)
	w.mu.Unlock()
	likely = max(likely, float64(n)*refused)
	return k >= ownRefusalsMin && 2*k >= n && float64(k) >= ownRefusalsExcess*likely && firsts <= ownFirstsMax*runs
}

// noteAgain counts the answer at now to an attempt of ticket tk, refused
// or not, in the key's tally if the attempt was a retry sent after its
// request's 429 and an accepted attempt of the key (tk.again), with the
// key's share of 429s over the last second (refused; read here if < 0).
//
// A 429 of an attempt that is no such retry (a first attempt's, or a
// retry's that saw nothing accepted since its 429) is counted too, among
// the 429s the requests refused for themselves must explain (ownFirstsMax).
func (p *pacer) noteAgain(tk ticket, now time.Time, isRefused bool, refused float64) {
	if tk.again == 0 && !isRefused {
		return
	}
	w := p.wk.Load()
	if w == nil {
		return
	}
	if refused < 0 {
		p.mu.Lock()
		refused = p.admitted.refusedShare(now)
		p.mu.Unlock()
	}
	if refused > ownMaxShare {
		return
	}
	w.mu.Lock()
	if tk.again == 0 {
		w.own.first(now)
	} else {
		w.own.add(now, isRefused, tk.again == 1, refused)
	}
	w.mu.Unlock()
}

// ownTally counts a key's retries sent after their request's 429 and an
// accepted attempt of the key (ticket.again), per second over the current
// one and the three before it: how many were answered, how many refused
// again, and how many the key's share of 429s at each answer made likely.
type ownTally struct {
	slots [4]ownSlot
}

type ownSlot struct {
	sec    int64   // Unix second
	n, k   int32   // answered, refused
	likely float64 // the key's share of 429s at each answer, summed
	runs   int32   // refused, a request's first retry so refused (ticket.again 1)
	firsts int32   // the key's other 429s (ticket.again 0)
}

// slot is the slot of now's second, emptied if it held an older one.
func (t *ownTally) slot(now time.Time) *ownSlot {
	sec := now.Unix()
	s := &t.slots[uint64(sec)%uint64(len(t.slots))]
	if s.sec != sec {
		*s = ownSlot{sec: sec}
	}
	return s
}

// add counts an answer at now, refused or not, at the key's share of 429s;
// run: the request's first retry after an accepted attempt.
func (t *ownTally) add(now time.Time, refused, run bool, share float64) {
	s := t.slot(now)
	s.n++
	if refused {
		s.k++
		if run {
			s.runs++
		}
	}
	s.likely += share
}

// first counts a 429 at now of an attempt that is no retry after an
// accepted attempt.
func (t *ownTally) first(now time.Time) {
	t.slot(now).firsts++
}

// sum is the tally of the last few seconds at now.
func (t *ownTally) sum(now time.Time) (n, k int32, likely float64, firsts, runs int32) {
	sec := now.Unix()
	for _, s := range t.slots {
		if s.sec <= sec && s.sec > sec-int64(len(t.slots)) {
			n, k, likely = n+s.n, k+s.k, likely+s.likely
			firsts, runs = firsts+s.firsts, runs+s.runs
		}
	}
	return n, k, likely, firsts, runs
}
