package llmretry

import (
	"context"
	"math"
	"sync"
	"time"
)

// line is the order in which a key's requests held by the estimate ask its
// Limiter for their turn. Under the estimate a waiter asks only for a turn
// within guessStep (a rate that grows or is cut must not be booked far
// ahead), and asks again a step later if it got none: left to themselves,
// the waiters would be served by the luck of who asked when a turn came up
// (64 workers at 100/s: p99 5 s, max 10 s, where a configured limit's were
// 650 ms). So only the line's heads ask, about as many as the estimate
// serves in a step, and the others wait their turn here, in the order a
// key's pacing queue serves (priority, tenant, first come first served
// within them, retries first). A waiter still in line when it would have
// gone unpaced (MaxWait, or guessReserve before its deadline) leaves it and
// goes as it would have; when the pace is no longer the estimate's, the
// line lets every waiter go to the limiter (open). The same 64 workers:
// p99 1.3 s, max 1.5–2.0 s (docs/runs/2026-12-08-line2.md).
type line struct {
	mu    sync.Mutex
	heads int     // the heads' number in force
	held  int     // heads
	share float64 // a lower priority's share (MemoryLimiter.MinShare); 0: none
	queue waitQueue
}

// lineHeads is how many of a key's waiters under an estimate of rate
// requests a second ask its Limiter at once: those it serves within a step,
// at least one.
func lineHeads(rate float64) int {
	return max(1, int(math.Min(rate*guessStep.Seconds(), 1e6)))
}

// enter makes the caller one of the line's heads, at once if a head's place
// is free and nobody waits (without allocation), else in its turn: again,
// a request sent before (a retry) waits first in line, having waited its
// turn once already (TestLineRetryGoesFirst). It
// reports false if until passed first: the caller goes as it would have
// unpaced, holding no place. A waiter whose ctx ends leaves the line, and a
// place it was given passes on.
func (l *line) enter(ctx context.Context, now time.Time, rate float64, until time.Time, again bool) (bool, error) {
	l.mu.Lock()
	l.queue.noTurns = true
	l.resize(lineHeads(rate))
	l.queue.expire(now, false)
	if l.held < l.heads && l.queue.len() == 0 {
		l.held++
		l.mu.Unlock()
		return true, nil
	}
	if !now.Before(until) {
		l.mu.Unlock()
		return false, nil
	}
	o := optionsFrom(ctx)
	w := &waiter{turn: make(chan struct{}), cost: 1, deadline: until, first: again}
	l.queue.push(w, o.priority, o.tenant)
	l.mu.Unlock()
	select {
	case <-w.turn:
		return w.given, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	given := w.given
	if !w.out {
		l.queue.remove(w, false)
	}
	l.mu.Unlock()
	if given {
		l.leave()
	}
	return false, ctx.Err()
}

// leave gives a head's place back: to the best waiter, if any.
func (l *line) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held--
	l.handOn()
}

// expire lets go the waiters still in line at the time they would have gone
// unpaced: the heads call it at each step, since a waiter in line has no
// timer of its own.
func (l *line) expire(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queue.expire(now, false)
}

// setRate sets the number of heads for an estimate of rate requests a
// second, letting waiters in if it grew.
func (l *line) setRate(rate float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resize(lineHeads(rate))
}

// open lets every waiter go to the limiter: the pace is no longer the
// estimate's, whose steps the line is for (line), and a limiter with a
// pace it keeps serves its own waiters in order. Left in line, they went
// one at a time as a head's place came free, behind every request that
// came after the estimate gave way (TestLineOpensWhenTheEstimateGivesWay).
// The heads' number is set again at the estimate's next step.
func (l *line) open() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resize(math.MaxInt)
}

// resize sets the heads' number; l.mu is held.
func (l *line) resize(n int) {
	l.heads = n
	l.handOn()
}

// handOn gives the free places to the best waiters; l.mu is held.
func (l *line) handOn() {
	for l.held < l.heads && l.queue.len() > 0 {
		w := l.queue.best(false)
		l.queue.release(w, false, l.share)
		w.out, w.given = true, true
		l.held++
		close(w.turn)
	}
}

// waiting is how many wait in line.
func (l *line) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queue.len()
}

// enterLine waits for a head's place in the key's line (line.enter) for a
// request under an estimate of rate requests a second, until it would go
// unpaced: end (MaxWait), or guessReserve before its deadline. The place
// held is none if it went unpaced first.
func (p *pacer) enterLine(ctx context.Context, now, end time.Time, rate float64, how acquireHow) (heldPlace, error) {
	until := end
	if d, ok := ctx.Deadline(); ok {
		until = minTime(until, d.Add(-guessReserve))
	}
	ln := p.waitLine()
	head, err := ln.enter(ctx, now, rate, until, how&sentBefore != 0)
	if !head {
		return heldPlace{}, err
	}
	return heldPlace{ln}, nil
}

// lineStep is a head's step under an estimate of rate requests a second:
// the heads' number follows the rate, and the waiters past their unpaced
// point go.
func (p *pacer) lineStep(now time.Time, rate float64) {
	ln := p.waitLine()
	ln.setRate(rate)
	ln.expire(now)
}

// heldPlace is a head's place in a key's line (line.enter), held until
// given back once by leave; the zero value holds none.
type heldPlace struct{ ln *line }

// leave gives the place back, if one is held.
func (h *heldPlace) leave() {
	if h.ln != nil {
		h.ln.leave()
		h.ln = nil
	}
}

// openLine lets the key's line go (line.open) if the pace in force, from
// src, is not the estimate's.
func (p *pacer) openLine(src limitSource) {
	if src == estimated {
		return
	}
	if ln := p.ln.Load(); ln != nil {
		ln.open()
	}
}

// waitLine is the key's line, made for its first waiter held by the
// estimate, so that a key that never needs one costs a pointer (a learned
// key's state is bounded: TestPacingStateBounded).
func (p *pacer) waitLine() *line {
	if l := p.ln.Load(); l != nil {
		return l
	}
	p.ln.CompareAndSwap(nil, &line{share: p.minShare()})
	return p.ln.Load()
}

// minShare is a lower priority's share of the key's turns: its
// MemoryLimiter's, or the default.
func (p *pacer) minShare() float64 {
	if m, ok := p.limiter.(*MemoryLimiter); ok {
		return m.minShare()
	}
	return defaultMinShare
}
