package llmretry

import (
	"cmp"
	"container/heap"
	"container/list"
	"slices"
	"time"
)

// defaultMinShare is the share of a key's limit that each lower priority
// waiting gets while higher ones keep the key saturated (see
// MemoryLimiter.MinShare).
const defaultMinShare = 0.05

// maxMinShare bounds MinShare: above it, a lower priority would get more
// than a higher one.
const maxMinShare = 0.5

// waiter is a request waiting in its key's queue. Only the queue's head
// takes tokens, and only when they are there: a waiter holding a
// reservation it may give up, or that a higher priority arriving after it
// could not get ahead of, would stall the key or order it first come first
// served.
type waiter struct {
	turn     chan struct{} // closed when the waiter is the head (or expired)
	cost     int           // its tokens
	deadline time.Time     // zero: none
	out      bool          // taken out of the queue by another: its deadline passed, or (slots) it got its slot
	given    bool          // (line) taken out of it with a head's place, not for its deadline
	first    bool          // (line) ahead of its tenant's others, behind those that came first before it: a request sent before
	t        *tenantQueue
	e        *list.Element // in t.fifo
	nudge    func()        // while the head sleeps for its tokens: wakes it
}

// waitQueue is a key's waiters, in levels of priority, highest first, and
// within each by tenant. Its head is the waiter whose turn it is: the one
// released next unless, when it is due, a better one has come (see repick).
//
// Which waiter is best: the highest priority's, unless a lower priority has
// earned its share (see level.credit); within a priority, the tenant
// furthest behind its fair share of what was released, in the limit's own
// unit (self-clocked fair queueing: while two tenants wait, what the level
// released to each stays within two requests' cost of the other's), and
// within a tenant, first come first served.
type waitQueue struct {
	levels   []*level // by priority, highest first; none is empty
	head     *waiter
	n        int
	earliest time.Time // the earliest deadline of a waiter, or zero
	noTurns  bool      // no head: the owner closes a waiter's turn (slots)
}

// level is the waiters of one priority.
type level struct {
	prio     int
	n        int
	reqs     float64 // waiters
	tokens   float64 // and their costs
	vtime    float64 // the largest finish tag released: the level's virtual time
	credit   float64 // what the level has earned while higher ones were released (see MemoryLimiter.MinShare)
	active   tenantHeap
	tenants  map[string]*tenantQueue // the active ones
	seq      uint64                  // activations, for ties
	byTokens bool                    // the unit of the tags: tokens (else requests)
}

// tenantQueue is one tenant's waiters at one priority, first come first
// served.
type tenantQueue struct {
	name string
	lvl  *level
	fifo list.List // of *waiter
	// lastFirst is the last of the waiters at the front that came first
	// (waiter.first), in the order they came; nil if none.
	lastFirst *list.Element
	tokens    float64 // the costs of its waiters
	finish    float64 // the finish tag of its last waiter released
	start     float64 // the start tag of its first waiter, fixed when it became active
	key       float64 // the finish tag its first waiter would get: its place in lvl.active
	seq       uint64  // when it became active
	idx       int     // in lvl.active
}

// len is how many wait.
func (q *waitQueue) len() int { return q.n }

// push queues w at priority prio for tenant, and gives it its turn if the
// queue was empty.
func (q *waitQueue) push(w *waiter, prio int, tenant string) {
	l := q.level(prio)
	t := l.tenants[tenant]
	if t == nil {
		t = &tenantQueue{name: tenant, lvl: l}
		l.tenants[tenant] = t
	}
	w.t = t
	switch {
	case !w.first:
		w.e = t.fifo.PushBack(w)
	case t.lastFirst != nil:
		w.e = t.fifo.InsertAfter(w, t.lastFirst)
		t.lastFirst = w.e
	default:
		w.e = t.fifo.PushFront(w)
		t.lastFirst = w.e
		if t.fifo.Len() > 1 {
			l.rekey(t) // a new first waiter
		}
	}
	if t.fifo.Len() == 1 {
		t.start = max(l.vtime, t.finish) // a tenant that was idle earns no credit for it
		l.seq++
		t.seq = l.seq
		t.key = t.start + w.unit(l.byTokens)
		heap.Push(&l.active, t)
	}
	t.tokens += float64(w.cost)
	l.n++
	l.reqs++
	l.tokens += float64(w.cost)
	q.n++
	if !w.deadline.IsZero() && (q.earliest.IsZero() || w.deadline.Before(q.earliest)) {
		q.earliest = w.deadline
	}
	if q.head == nil && !q.noTurns {
		q.head = w
		close(w.turn)
	}
}

// level returns the level of prio, making it.
func (q *waitQueue) level(prio int) *level {
	i, found := slices.BinarySearchFunc(q.levels, prio, func(l *level, p int) int { return cmp.Compare(p, l.prio) })
	if !found {
		q.levels = slices.Insert(q.levels, i, &level{prio: prio, tenants: map[string]*tenantQueue{}})
	}
	return q.levels[i]
}

// remove takes w out of the queue and, if it was the head, gives the best
// waiter left its turn.
func (q *waitQueue) remove(w *waiter, byTokens bool) {
	t, l := w.t, w.t.lvl
	first := t.fifo.Front() == w.e
	if t.lastFirst == w.e {
		t.lastFirst = w.e.Prev()
	}
	t.fifo.Remove(w.e)
	t.tokens -= float64(w.cost)
	l.n--
	l.reqs--
	l.tokens -= float64(w.cost)
	q.n--
	switch {
	case t.fifo.Len() == 0:
		// Idle: forgotten. Its finish tag is not ahead of the level's
		// virtual time (the largest released), where it starts again.
		heap.Remove(&l.active, t.idx)
		delete(l.tenants, t.name)
	case first:
		l.rekey(t)
	}
	if l.n == 0 {
		q.levels = slices.DeleteFunc(q.levels, func(x *level) bool { return x == l })
	}
	if q.head == w {
		q.head = nil
		if q.n > 0 {
			q.head = q.best(byTokens)
			close(q.head.turn)
		}
	}
}

// unit is w's cost in the limit's unit: tokens when tokens are paced.
func (w *waiter) unit(byTokens bool) float64 {
	if byTokens {
		return float64(w.cost)
	}
	return 1
}

// best is the waiter to release next. The lowest priority whose credit
// pays for its best waiter goes first; else the highest priority.
func (q *waitQueue) best(byTokens bool) *waiter {
	for i := len(q.levels) - 1; i > 0; i-- {
		l := q.levels[i]
		if w := l.best(byTokens); l.credit >= w.unit(byTokens) {
			return w
		}
	}
	return q.levels[0].best(byTokens)
}

// best is the first waiter of the level's tenant whose finish tag would be
// the least (the one furthest behind its share once it is served), the
// earliest to become active on a tie. Tags are in the limit's unit: if it
// changed (a limit of tokens set or gone), every tenant starts afresh.
func (l *level) best(byTokens bool) *waiter {
	if l.byTokens != byTokens {
		l.byTokens, l.vtime = byTokens, 0
		for _, t := range l.tenants {
			t.start, t.finish = 0, 0
		}
		for _, t := range l.active {
			t.key = t.fifo.Front().Value.(*waiter).unit(byTokens)
		}
		heap.Init(&l.active)
	}
	return l.active[0].fifo.Front().Value.(*waiter)
}

// rekey puts t, whose first waiter or start changed, in its place.
func (l *level) rekey(t *tenantQueue) {
	t.key = t.start + t.fifo.Front().Value.(*waiter).unit(l.byTokens)
	heap.Fix(&l.active, t.idx)
}

// tenantHeap is a level's active tenants, least key first, then earliest
// active (container/heap).
type tenantHeap []*tenantQueue

func (h tenantHeap) Len() int { return len(h) }
func (h tenantHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].seq < h[j].seq
}
func (h tenantHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *tenantHeap) Push(x any) {
	t := x.(*tenantQueue)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *tenantHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}

// repick reports whether w, the head, is still the best waiter. If not, the
// best one gets the turn and w waits for its own again.
func (q *waitQueue) repick(w *waiter, byTokens bool) bool {
	b := q.best(byTokens)
	if b == w {
		return true
	}
	w.turn = make(chan struct{})
	q.head = b
	close(b.turn)
	return false
}

// release takes w, the head, out of the queue as it goes, and accounts for
// what it was given: its tenant's finish tag, and its level's credit spent
// or, for the highest level, the credit every lower level earns: share of
// what is released, so that with two priorities waiting the lower one gets
// share of the whole. Only the highest level's releases earn credit: with
// many priorities, each lower one gets as much, and never more than the
// highest, however many there are.
func (q *waitQueue) release(w *waiter, byTokens bool, share float64) {
	c := w.unit(byTokens)
	t, l := w.t, w.t.lvl
	t.finish = t.key // best saw to it that the key is in the unit in force
	t.start, l.vtime = t.finish, max(l.vtime, t.finish)
	switch {
	case l != q.levels[0]:
		l.credit = max(0, l.credit-c) // released on its credit
	case share > 0:
		earn := c * share / (1 - share)
		for _, lower := range q.levels[1:] {
			lower.credit += earn
		}
	}
	q.remove(w, byTokens)
}

// aheadExact is the most tenants of a level that ahead sums one by one.
const aheadExact = 64

// ahead is what would be released before a request costing n that joins
// at prio for tenant, in requests and in tokens: at its own priority as much
// of each tenant's as of its own (fair shares), and everything at higher
// priorities, but, with a share (MinShare), no more than what goes while
// its level earns the credit for all that: a low priority is not counted
// behind a whole high backlog that its share lets it pass. Lower
// priorities' credit is left out: an estimate.
func (q *waitQueue) ahead(prio int, tenant string, n float64, byTokens bool, share float64) (reqs, tokens float64) {
	var hiReqs, hiTokens float64
	higher := 0
	for _, l := range q.levels {
		switch {
		case l.prio > prio:
			hiReqs += l.reqs
			hiTokens += l.tokens
			higher++
		case l.prio == prio:
			var ownReqs, ownTokens float64
			if own := l.tenants[tenant]; own != nil {
				ownReqs, ownTokens = float64(own.fifo.Len()), own.tokens
			}
			if k := float64(len(l.active)); k > aheadExact {
				// Many tenants: a bound, not the sum, so that joining
				// costs little whatever their number.
				reqs += min(l.reqs, k*(ownReqs+1))
				tokens += min(l.tokens, k*(ownTokens+n))
				continue
			}
			for _, t := range l.active {
				if t.name == tenant {
					reqs, tokens = reqs+ownReqs, tokens+ownTokens
					continue
				}
				reqs += min(float64(t.fifo.Len()), ownReqs+1)
				tokens += min(t.tokens, ownTokens+n)
			}
		}
	}
	if share > 0 && higher > 0 {
		// The highest level releases (1-share)/share units for each the
		// level earns; each level between takes about as much as this one.
		own, all := reqs+1, hiReqs
		if byTokens {
			own, all = tokens+n, hiTokens
		}
		if f := float64(higher) * own * (1 - share) / share / all; f < 1 {
			hiReqs, hiTokens = hiReqs*f, hiTokens*f
		}
	}
	return reqs + hiReqs, tokens + hiTokens
}

// expire takes out of the queue the waiters (but the head, which sees to
// its own) whose deadline has passed at now, and wakes them: a deadline
// without a timer (deadlineCtx) would not.
func (q *waitQueue) expire(now time.Time, byTokens bool) {
	if q.earliest.IsZero() || now.Before(q.earliest) {
		return
	}
	q.earliest = time.Time{}
	var gone []*waiter
	for _, l := range q.levels {
		for _, t := range l.active {
			for e := t.fifo.Front(); e != nil; e = e.Next() {
				w := e.Value.(*waiter)
				switch {
				case w.deadline.IsZero() || w == q.head:
				case !now.Before(w.deadline):
					gone = append(gone, w)
				case q.earliest.IsZero() || w.deadline.Before(q.earliest):
					q.earliest = w.deadline
				}
			}
		}
	}
	if h := q.head; h != nil && !h.deadline.IsZero() && (q.earliest.IsZero() || h.deadline.Before(q.earliest)) {
		q.earliest = h.deadline
	}
	for _, w := range gone {
		q.remove(w, byTokens)
		w.out = true
		close(w.turn)
	}
}
