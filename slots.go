package llmretry

import (
	"context"
	"sync"
)

// slots is a key's in-flight cap (Limits.MaxInFlight): a semaphore whose
// waiters are served as a key's pacing queue serves them, by priority and
// by tenant (in requests), rather than first come first served. A slot
// given back while some wait passes straight to the best of them.
type slots struct {
	mu    sync.Mutex
	n     int // the cap
	free  int
	share float64
	queue waitQueue // its waiters' turn is closed when they are given a slot
}

func newSlots(n int, share float64) *slots {
	return &slots{n: n, free: n, share: share, queue: waitQueue{noTurns: true}}
}

// tryAcquire takes a slot if one is free and nobody waits.
func (s *slots) tryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free > 0 && s.queue.len() == 0 {
		s.free--
		return true
	}
	return false
}

// acquire takes a slot, waiting for one at ctx's priority and for its
// tenant, or returns ctx's error.
func (s *slots) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.free > 0 && s.queue.len() == 0 {
		s.free-- // the path of a request under the cap: no allocation
		s.mu.Unlock()
		return nil
	}
	o := optionsFrom(ctx)
	w := &waiter{turn: make(chan struct{}), cost: 1}
	s.queue.push(w, o.priority, o.tenant)
	s.mu.Unlock()
	select {
	case <-w.turn:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	granted := w.out // given a slot as ctx ended
	if !granted {
		s.queue.remove(w, false)
	}
	s.mu.Unlock()
	if granted {
		s.release()
	}
	return ctx.Err()
}

// release gives a slot back: to the best waiter, if any.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queue.len() == 0 {
		s.free++
		return
	}
	w := s.queue.best(false)
	s.queue.release(w, false, s.share)
	w.out = true // out of the queue
	close(w.turn)
}

// held is how many slots are taken; none on a nil *slots.
func (s *slots) held() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n - s.free
}
