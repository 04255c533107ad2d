package llmretry

import (
	"context"
	"time"
)

// A LearningLimiter is a [Limiter] shared by several processes that also
// holds, for a key with no configured request rate, one estimate of the
// key's rate for all of them: the server's whole rate, as one process
// sending all of the fleet's requests would estimate it after 429s, not
// each process's share of it. A Transport whose Limits.Limiter is one
// tells it of the answers on such a key (Accepted, Refused) and paces the
// key at the estimate it holds (Estimate) instead of its own; without one
// (0), it uses its own estimate, as with any Limiter. The redislimit
// module's Limiter is one.
//
// Why one estimate rather than shares: processes that each estimate their
// own share of a key after 429s find the server's rate only as fast as
// their shares even out (additive growth, proportional cuts), and a fleet
// of 4 or 8 sharing one key took 1.07–1.29× the optimum where one process
// sending the same requests took 1.00× (bench fleet, 2026-12-06).
type LearningLimiter interface {
	Limiter
	// Estimate returns the key's shared estimate as last seen, in
	// requests per second (0 if none, or if the Limiter cannot tell: the
	// Transport then uses its own), and whether it rests on a rate
	// measured between 429s (past its slow start). It is called for every
	// request on the key, and must not block.
	Estimate(key string) (perSecond float64, measured bool)
	// Accepted tells that the server accepted an attempt on key (an
	// answer of ClassOK). It is called for every such answer, and must
	// not block: an implementation batches them.
	Accepted(key string)
	// Refused tells that the server refused an attempt on key with a 429
	// that nothing it announced explains. The estimate is cut by the time
	// it returns, so that the Transport's own decisions after the 429 (the
	// pause it sets, the retry's wait) see the cut.
	Refused(ctx context.Context, key string)
}

// sharedLearner is the key's Limiter if it learns the key's rate for the
// fleet: learning is on and no request rate is configured.
func (p *pacer) sharedLearner() LearningLimiter {
	if !p.learn || p.config.RequestRate > 0 {
		return nil
	}
	s, _ := p.limiter.(LearningLimiter)
	return s
}

// learnedLimit is the learned pace at now (l may be nil: nothing learned
// here) and whether an estimate sets its request rate: l's own, with the
// fleet's shared estimate in place of this process's when a
// LearningLimiter holds one (the tokens estimate, if any, follows it at
// the tokens per request this process measured). The fleet's paces from
// its first cut, slow start included: leaving the slow start to each
// process (its own estimate, in its memory) and switching to the fleet's
// once measured took 1.02-1.30x where this took 1.01-1.12x (bench fleet,
// 2026-12-06).
func (p *pacer) learnedLimit(l *learning, now time.Time) (Pace, bool) {
	if s := p.sharedLearner(); s != nil {
		if e, _ := s.Estimate(p.key); e > 0 {
			if l == nil {
				l = p.learning()
			}
			return l.limitShared(now, e)
		}
	}
	if l == nil {
		return Pace{}, false
	}
	return l.limit(now)
}

// limitShared is limit with e, the fleet's estimate, for the estimate.
func (l *learning) limitShared(now time.Time, e float64) (Pace, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limitWith(now, e, e*l.est.tokPerReq)
}

// estimateMeasured reports whether the estimate in force at now rests on a
// rate measured between 429s: the fleet's, if a LearningLimiter holds one.
func (p *pacer) estimateMeasured(now time.Time) bool {
	if s := p.sharedLearner(); s != nil {
		if e, m := s.Estimate(p.key); e > 0 {
			return m
		}
	}
	l := p.lrn.Load()
	return l != nil && p.learn && l.measured(now)
}

// shareAccepted tells a LearningLimiter of an answer the server accepted,
// for the attempt of ticket tk (and a fleetWaker, when it was sent).
func (p *pacer) shareAccepted(tk ticket) {
	if s := p.sharedLearner(); s != nil {
		s.Accepted(p.key)
		if w, ok := s.(fleetWaker); ok {
			w.AcceptedSent(p.key, time.Unix(0, tk.at))
		}
	}
}

// fleetWaker is a LearningLimiter that also shares among the processes of
// its fleet when the attempts the server accepted were sent, so that the
// retry of a bare 429 on a key paced by the fleet's estimate wakes at the
// first answer accepted for an attempt sent after the 429 by any process of
// the fleet, not only by its own (pacer.retryWake, Transport.retryWait): a
// process whose last requests were refused, while the others' were
// accepted, slept its whole backoff with the server idle at the run's end
// (bench fleet on redislimit, bare 429s and Cerebras' ×4 and ×8:
// docs/runs/2026-12-07-rdstart.md). redislimit's Limiter is one. Its
// methods are exported so that another module's Limiter can be one; the
// interface is not part of the API.
type fleetWaker interface {
	// AcceptedSent tells that the server accepted an attempt on key sent
	// at sent (the Transport's clock). It must not block.
	AcceptedSent(key string, sent time.Time)
	// AcceptedAfter blocks until the fleet has been told (AcceptedSent,
	// in any of its processes) of an attempt on key that the server
	// accepted and that was surely sent after at, then returns true; it
	// returns false when ctx ends, or at once when it cannot tell. An
	// attempt sent before at, whenever it was answered, is no evidence.
	AcceptedAfter(ctx context.Context, key string, at time.Time) bool
}

// fleetWaker is the key's Limiter if it shares the fleet's accepted
// answers (see the type).
func (p *pacer) fleetWaker() fleetWaker {
	w, _ := p.sharedLearner().(fleetWaker)
	return w
}

// shareRefused tells a LearningLimiter of an unexplained 429.
func (p *pacer) shareRefused(ctx context.Context) {
	if s := p.sharedLearner(); s != nil {
		s.Refused(context.WithoutCancel(ctx), p.key)
	}
}
