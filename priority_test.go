package llmretry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// qwaiter pushes a waiter costing cost on q at prio for tenant.
func qwaiter(q *waitQueue, prio int, tenant string, cost int) *waiter {
	w := &waiter{turn: make(chan struct{}), cost: cost}
	q.push(w, prio, tenant)
	return w
}

// served releases the best waiter of q, as its head does when its tokens
// are there, and returns it.
func served(q *waitQueue, byTokens bool, share float64) *waiter {
	w := q.best(byTokens)
	q.release(w, byTokens, share)
	return w
}

// Without a guaranteed share, a higher priority goes first, whatever waited
// longer; each priority first come first served.
func TestQueuePriorityOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prios []int
		want  string
	}{
		{[]int{0, 0, 5, 0, -3, 5, 10, 0}, "10:6 5:2 5:5 0:0 0:1 0:3 0:7 -3:4"},
		{[]int{10, math.MinInt, math.MaxInt, 0}, fmt.Sprintf("%d:2 10:0 0:3 %d:1", math.MaxInt, math.MinInt)},
		{[]int{math.MinInt, 10}, fmt.Sprintf("10:1 %d:0", math.MinInt)},
	}
	for _, tt := range tests {
		var q waitQueue
		names := map[*waiter]string{}
		for i, p := range tt.prios {
			names[qwaiter(&q, p, "", 1)] = fmt.Sprintf("%d:%d", p, i)
		}
		var got []string
		for q.len() > 0 {
			got = append(got, names[served(&q, false, 0)])
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("priorities %v: released %s, want %s", tt.prios, s, tt.want)
		}
		if len(q.levels) != 0 || q.head != nil {
			t.Errorf("empty queue keeps %d levels, head %v", len(q.levels), q.head)
		}
	}
}

// Under sustained saturation by higher priorities, each lower priority
// waiting still gets its share of what is released, in the limit's unit:
// within one request's cost of share/(1-share) of what the others got.
func TestQueueMinShareUnderSaturation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		share    float64
		prios    []int
		byTokens bool
	}{
		{"two priorities, 5%", 0.05, []int{10, 0}, false},
		{"two priorities, 20%", 0.2, []int{1, 0}, false},
		{"three priorities", 0.05, []int{2, 1, 0}, false},
		{"twenty priorities, the largest share", 0.5, []int{19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, false},
		{"tokens", 0.05, []int{1, 0}, true},
		{"none", 0, []int{1, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			cost := func() int { return 50 + r.IntN(4951) }
			var q waitQueue
			for _, p := range tt.prios { // every priority backlogged, and kept so
				for range 3 {
					qwaiter(&q, p, "", cost())
				}
			}
			got := map[int]float64{}
			var total float64
			const n = 20000
			for range n {
				w := served(&q, tt.byTokens, tt.share)
				got[w.t.lvl.prio] += w.unit(tt.byTokens)
				total += w.unit(tt.byTokens)
				qwaiter(&q, w.t.lvl.prio, "", cost())
			}
			maxUnit := 1.0
			if tt.byTokens {
				maxUnit = 5000
			}
			earn := tt.share / (1 - tt.share)
			top := got[tt.prios[0]]
			for _, p := range tt.prios[1:] {
				if low := earn*top - 2*maxUnit; got[p] < low {
					t.Errorf("priority %d got %.0f of %.0f, want ≥ %.0f (%.1f%% of what the highest got)", p, got[p], total, low, 100*earn)
				}
				if got[p] > top {
					t.Errorf("priority %d got %.0f, more than the highest's %.0f", p, got[p], top)
				}
				if tt.share == 0 && got[p] != 0 {
					t.Errorf("priority %d got %.0f without a share, want 0", p, got[p])
				}
			}
			if want := total / (1 + float64(len(tt.prios)-1)*earn); top < want-float64(len(tt.prios))*2*maxUnit {
				t.Errorf("the highest priority got %.0f of %.0f, want ≥ %.0f", top, total, want)
			}
		})
	}
}

// Tenants of one priority share what is released, in tokens when tokens
// are paced: with request sizes of 50 to 5,000 tokens and demand 10:1:1:1,
// while all wait, no tenant is ever more than two requests' worth of tokens
// ahead of another, and Jain's index is ≥ 0.99.
func TestQueueTenantTokenFairness(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	cost := func() int { return 50 + r.IntN(4951) }
	var q waitQueue
	tenants := []string{"big", "a", "b", "c"}
	demand := []int{10, 1, 1, 1}
	for i, name := range tenants { // queued in demand's proportion
		for range 10 * demand[i] {
			qwaiter(&q, 0, name, cost())
		}
	}
	got := map[string]float64{}
	for range 5000 {
		w := served(&q, true, defaultMinShare)
		got[w.t.name] += float64(w.cost)
		for range demand[indexOf(tenants, w.t.name)] { // the big tenant keeps adding 10× as much
			if w.t.fifo.Len() < 100 {
				qwaiter(&q, 0, w.t.name, cost())
			}
		}
		lo, hi := math.Inf(1), 0.0
		for _, name := range tenants {
			lo, hi = min(lo, got[name]), max(hi, got[name])
		}
		if hi-lo > 2*5000 {
			t.Fatalf("tokens per tenant %v: %0.f apart, more than two requests", got, hi-lo)
		}
	}
	var sum, sq float64
	for _, name := range tenants {
		sum += got[name]
		sq += got[name] * got[name]
	}
	if jain := sum * sum / (float64(len(tenants)) * sq); jain < 0.99 {
		t.Errorf("Jain's index %.4f, want ≥ 0.99 (%v)", jain, got)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// A tenant that waits with one large request at a time, its queue empty
// after each goes, does not start afresh each time: it keeps its place
// behind what it was given, and gets no more than a backlogged tenant.
func TestQueueTenantComingBackKeepsItsTag(t *testing.T) {
	t.Parallel()
	var q waitQueue
	for range 50 {
		qwaiter(&q, 0, "small", 100)
	}
	qwaiter(&q, 0, "big", 5000)
	got := map[string]float64{}
	for range 2000 {
		w := served(&q, true, 0)
		got[w.t.name] += float64(w.cost)
		qwaiter(&q, 0, w.t.name, w.cost) // each comes back at once
	}
	if d := got["big"] - got["small"]; d > 2*5000 {
		t.Errorf("tokens %v: the tenant coming back got %.0f more", got, d)
	}
	// Ever new tenants, each served once, are forgotten.
	for i := range 1000 {
		qwaiter(&q, 0, fmt.Sprint("once", i), 1)
		for served(&q, true, 0).t.name != fmt.Sprint("once", i) {
			qwaiter(&q, 0, "small", 100)
		}
	}
	if n := len(q.levels[0].tenants); n > 2*len(q.levels[0].active)+9 {
		t.Errorf("the level keeps %d tenants for %d active", n, len(q.levels[0].active))
	}
}

// prio is a context with priority p and tenant.
func prio(p int, tenant string) context.Context {
	return WithTenant(WithPriority(bg(), p), tenant)
}

// A higher priority that comes while lower ones wait goes at the next
// token: the head, due then, gives it its turn, and takes its own tokens
// only after it (on the fake clock, step by step, as MemoryLimiter.Wait).
func TestBucketsHigherPriorityGoesNext(t *testing.T) {
	t.Parallel()
	lim := Pace{RequestRate: 10, RequestBurst: 1}
	b := &buckets{}
	t0 := testNow
	if w, _ := b.join(bg(), t0, lim, 1, math.MaxInt64); w != nil {
		t.Fatal("the first request waits")
	}
	var low []*waiter
	for range 3 {
		w, err := b.join(prio(0, ""), t0, lim, 1, math.MaxInt64)
		if err != nil || w == nil {
			t.Fatalf("join: %v, %v", w, err)
		}
		low = append(low, w)
	}
	if d, err := b.headTake(low[0], t0, lim, math.MaxInt64, 0); d != 100*time.Millisecond || err != nil {
		t.Fatalf("the head waits %v, %v; want 100ms", d, err)
	}
	high, err := b.join(prio(1, ""), t0.Add(time.Millisecond), lim, 1, math.MaxInt64)
	if err != nil || high == nil {
		t.Fatal(err)
	}
	t1 := t0.Add(100 * time.Millisecond)
	if d, _ := b.headTake(low[0], t1, lim, math.MaxInt64, 0); d != -1 {
		t.Fatalf("the head, due, returns %v; want -1: the higher priority's turn", d)
	}
	select {
	case <-b.turnOf(high):
	default:
		t.Fatal("the higher priority was not given its turn")
	}
	select {
	case <-b.turnOf(low[0]):
		t.Fatal("the old head keeps its turn")
	default:
	}
	if d, err := b.headTake(high, t1, lim, math.MaxInt64, 0); d != 0 || err != nil {
		t.Fatalf("the higher priority waits %v, %v; want 0: it goes", d, err)
	}
	select {
	case <-b.turnOf(low[0]):
	default:
		t.Fatal("the first low waiter is not the head again")
	}
	if d, _ := b.headTake(low[0], t1, lim, math.MaxInt64, 0); d != 100*time.Millisecond {
		t.Errorf("then the low head waits %v, want 100ms", d)
	}
}

// A request's deadline counts only what would go before it: a high
// priority joins a long low queue within a short deadline; a low one does
// not, and fails at once with ErrDeadline.
func TestBucketsJoinDeadlineByPriority(t *testing.T) {
	t.Parallel()
	lim := Pace{RequestRate: 10, RequestBurst: 1}
	b := &buckets{}
	b.join(bg(), testNow, lim, 1, math.MaxInt64)
	for range 20 {
		if _, err := b.join(prio(0, "batch"), testNow, lim, 1, math.MaxInt64); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.join(prio(1, ""), testNow, lim, 1, 150*time.Millisecond); err != nil {
		t.Errorf("a high priority behind 20 low ones: %v, want it queued", err)
	}
	if _, err := b.join(prio(0, "other"), testNow, lim, 1, 500*time.Millisecond); err != nil {
		t.Errorf("another tenant behind 20 of one: %v, want it queued (it goes after one of theirs)", err)
	}
	if _, err := b.join(prio(0, "batch"), testNow, lim, 1, 500*time.Millisecond); !errors.Is(err, ErrDeadline) {
		t.Errorf("the 21st of one tenant within 500ms: %v, want ErrDeadline", err)
	}
}

// A waiter whose deadline has no timer (the pacer's deadlineCtx) and that
// later higher priorities overtake is taken out of the queue by the head
// when its deadline passes, and fails with ErrDeadline.
func TestBucketsOvertakenWaiterExpires(t *testing.T) {
	t.Parallel()
	lim := Pace{RequestRate: 10, RequestBurst: 1}
	b := &buckets{}
	b.join(bg(), testNow, lim, 1, math.MaxInt64)
	head, _ := b.join(prio(5, ""), testNow, lim, 1, math.MaxInt64)
	dl := deadlineCtx{prio(0, ""), testNow.Add(250 * time.Millisecond)}
	low, err := b.join(dl, testNow, lim, 1, 250*time.Millisecond)
	if err != nil || low == nil {
		t.Fatal(err)
	}
	for i := range 5 { // higher priorities keep coming
		b.join(prio(5, ""), testNow, lim, 1, math.MaxInt64)
		now := testNow.Add(time.Duration(i+1) * 100 * time.Millisecond)
		if d, err := b.headTake(head, now, lim, math.MaxInt64, 0); d != 0 || err != nil {
			t.Fatalf("head at %v: %v, %v", now.Sub(testNow), d, err)
		}
		b.mu.Lock()
		head = b.queue.head
		b.mu.Unlock()
		if head == low {
			t.Fatal("the low waiter got its turn under a strict priority")
		}
	}
	select {
	case <-b.turnOf(low):
	default:
		t.Fatal("the overtaken waiter was not woken at its deadline")
	}
	if _, err := b.headTake(low, testNow.Add(time.Second), lim, math.MaxInt64, 0); !errors.Is(err, ErrDeadline) {
		t.Errorf("err = %v, want ErrDeadline", err)
	}
}

// Waiters of many priorities and tenants that give up, in any order, leave
// nothing behind: the queue is empty and the key not stalled.
func TestMemoryLimiterCancelledPriorityWaitersInAnyOrder(t *testing.T) {
	t.Parallel()
	const n = 30
	orders := map[string]func(i int) int{
		"first-first": func(i int) int { return i },
		"last-first":  func(i int) int { return n - 1 - i },
		"interleaved": func(i int) int { return (i * 7) % n },
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeTime{now: testNow}
			m := &MemoryLimiter{seams: &seams{now: ft.Now, sleep: func(ctx context.Context, d time.Duration) error {
				<-ctx.Done() // nothing is sent before the waiters give up
				return ctx.Err()
			}}}
			lim := (&Limits{RequestsPerMinute: 60, RequestBurst: 1, TokensPerMinute: 60000}).limit()
			if err := m.Wait(bg(), "k", lim, 1); err != nil { // takes the burst
				t.Fatal(err)
			}
			b := m.get("k")
			cancels := make([]context.CancelFunc, n)
			errs := make(chan error, n)
			for i := range n {
				ctx, cancel := context.WithCancel(prio(i%3, fmt.Sprint("t", i%4)))
				cancels[i] = cancel
				go func() { errs <- m.Wait(ctx, "k", lim, 10+i) }()
				for queued(b) < i+1 {
					time.Sleep(time.Millisecond)
				}
			}
			for i := range n {
				cancels[order(i)]()
			}
			for range n {
				if err := <-errs; !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
			}
			b.mu.Lock()
			left, levels, head := b.queue.len(), len(b.queue.levels), b.queue.head
			b.mu.Unlock()
			if left != 0 || levels != 0 || head != nil {
				t.Fatalf("after all gave up: %d waiting, %d levels, head %v", left, levels, head)
			}
			ft.Sleep(bg(), 1500*time.Millisecond)
			if d := needs(t, m, "k", lim, 1); d != 0 {
				t.Errorf("1.5s after the waiters gave up, a request needs %v, want 0", d)
			}
		})
	}
}

func queued(b *buckets) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queue.len()
}

// MaxInFlight's waiters get a slot given back by priority, and one that
// gives up, as it is given one, passes it on.
func TestSlotsByPriority(t *testing.T) {
	t.Parallel()
	s := newSlots(1, 0)
	if err := s.acquire(bg()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i, p := range []int{0, 0, 3, 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.acquire(prio(p, "")); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, p)
			mu.Unlock()
			s.release()
		}()
		for s.waiting() < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(prio(9, ""))
	cancelled := make(chan error)
	go func() { cancelled <- s.acquire(ctx) }()
	for s.waiting() < 5 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	s.release()
	wg.Wait()
	if want := []int{3, 1, 0, 0}; fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("slots went to priorities %v, want %v", order, want)
	}
	if h := s.held(); h != 0 {
		t.Errorf("%d slots held at the end", h)
	}
}

func (s *slots) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.len()
}

// The Observer is told each pacing wait's priority: the request's, or its
// policy's default; the Logger logs it.
func TestPacingWaitPriority(t *testing.T) {
	t.Parallel()
	pol := &Policy{Name: "p", Priority: 2, Limits: Limits{RequestsPerMinute: 6000}}
	tr, srv, _ := setup(t, pol)
	var mu sync.Mutex
	var got []int
	tr.Observer = &Observer{Paced: func(_ context.Context, w PacingWait) {
		mu.Lock()
		got = append(got, w.Priority)
		mu.Unlock()
	}}
	var log strings.Builder
	tr.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, ctx := range []context.Context{bg(), WithPriority(bg(), -1)} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != "[2 -1]" {
		t.Errorf("priorities told %v, want [2 -1]", got)
	}
	if s := log.String(); !strings.Contains(s, "priority=2") || !strings.Contains(s, "priority=-1") {
		t.Errorf("log %q lacks the priorities", s)
	}
}

// Hundreds of tenants, each kept waiting: every one's tokens stay within
// two requests' worth of every other's, and a change of the limit's unit
// (tokens paced, then not) starts the tags afresh without losing a waiter.
func TestQueueManyTenants(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	cost := func() int { return 50 + r.IntN(4951) }
	var q waitQueue
	const tenants = 300
	for i := range tenants {
		for range 2 {
			qwaiter(&q, 0, fmt.Sprint(i), cost())
		}
	}
	got := map[string]float64{}
	for range 30 * tenants {
		w := served(&q, true, 0)
		got[w.t.name] += float64(w.cost)
		qwaiter(&q, 0, w.t.name, cost())
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range got {
		lo, hi = min(lo, v), max(hi, v)
	}
	if len(got) != tenants || hi-lo > 2*5000 {
		t.Errorf("%d tenants served, tokens from %.0f to %.0f: more than two requests apart", len(got), lo, hi)
	}
	reqs := map[string]int{}
	for range 10 * tenants { // now counted in requests
		w := served(&q, false, 0)
		reqs[w.t.name]++
		qwaiter(&q, 0, w.t.name, cost())
	}
	for name, n := range reqs {
		if n < 9 || n > 11 {
			t.Fatalf("tenant %s got %d of %d requests, want 10 ± 1", name, n, 10*tenants)
		}
	}
	if q.len() != 2*tenants {
		t.Errorf("%d waiting, want %d", q.len(), 2*tenants)
	}
}

// Many waiters of mixed priorities and tenants, some giving up at any
// moment, on a fast key: every one returns, with nil or its context's
// error, and the queue is left empty (run with -race).
func TestMemoryLimiterPriorityStress(t *testing.T) {
	t.Parallel()
	var m MemoryLimiter
	lim := Pace{RequestRate: 5000, RequestBurst: 1, TokenRate: 500000, TokenBurst: 1000}
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := prio(i%3, fmt.Sprint(i%4))
			if i%3 == 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(i%7)*time.Millisecond)
				defer cancel()
			}
			err := m.Wait(ctx, "k", lim, 1+i%200)
			if err != nil && ctx.Err() == nil && !errors.Is(err, ErrDeadline) {
				t.Errorf("waiter %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if n := queued(m.get("k")); n != 0 {
		t.Errorf("%d left in the queue", n)
	}
}

// blockingLimiter is a shared Limiter whose calls wait for the test: it
// records each caller's priority as it enters.
type blockingLimiter struct {
	mu      sync.Mutex
	entered []int
	proceed chan struct{}
}

func (l *blockingLimiter) Wait(ctx context.Context, _ string, _ Pace, _ int) error {
	l.mu.Lock()
	l.entered = append(l.entered, optionsFrom(ctx).priority)
	l.mu.Unlock()
	select {
	case <-l.proceed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *blockingLimiter) Pause(context.Context, string, time.Time) error { return nil }

func (l *blockingLimiter) calls() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.entered...)
}

// With a shared Limiter, once requests carry a priority, they call it one
// at a time in the order of the key's local queue; without one, at once.
func TestSharedLimiterCalledInPriorityOrder(t *testing.T) {
	t.Parallel()
	t.Run("ordered", func(t *testing.T) {
		t.Parallel()
		shared := &blockingLimiter{proceed: make(chan struct{})}
		p := newPacer(&Policy{Limits: Limits{RequestsPerMinute: 600, Limiter: shared}}, "k", &MemoryLimiter{}, nil)
		var wg sync.WaitGroup
		for i, pr := range []int{0, 0, 0, 0, 5} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.acquire(prio(pr, ""), 1, time.Now()); err != nil {
					t.Error(err)
				}
			}()
			for i > 0 && p.gate.Load().waiting() < i || len(shared.calls()) < 1 {
				time.Sleep(time.Millisecond)
			}
		}
		for range 5 {
			shared.proceed <- struct{}{}
		}
		wg.Wait()
		if got := fmt.Sprint(shared.calls()); got != "[0 5 0 0 0]" {
			t.Errorf("the shared Limiter was called at priorities %s, want [0 5 0 0 0]", got)
		}
	})
	t.Run("unordered", func(t *testing.T) {
		t.Parallel()
		shared := &blockingLimiter{proceed: make(chan struct{})}
		p := newPacer(&Policy{Limits: Limits{RequestsPerMinute: 600, Limiter: shared}}, "k", &MemoryLimiter{}, nil)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() { defer wg.Done(); p.acquire(bg(), 1, time.Now()) }()
		}
		for len(shared.calls()) < 3 { // all three at once: would hang if gated
			time.Sleep(time.Millisecond)
		}
		close(shared.proceed)
		wg.Wait()
		if p.gate.Load() != nil {
			t.Error("a gate without a priority or tenant")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		shared := &blockingLimiter{proceed: make(chan struct{})}
		p := newPacer(&Policy{Limits: Limits{RequestsPerMinute: 600, Limiter: shared}}, "k", &MemoryLimiter{}, nil)
		done := make(chan struct{})
		go func() { defer close(done); p.acquire(prio(1, ""), 1, time.Now()) }()
		for len(shared.calls()) < 1 {
			time.Sleep(time.Millisecond)
		}
		// A learned pace's step: a deadline no timer enforces.
		err := p.limiterWait(deadlineCtx{prio(9, ""), time.Now().Add(20 * time.Millisecond)}, Pace{RequestRate: 10, RequestBurst: 1}, 1)
		if !errors.Is(err, ErrDeadline) {
			t.Errorf("err = %v, want ErrDeadline at the step's end", err)
		}
		close(shared.proceed)
		<-done
		if h := p.gate.Load().held(); h != 0 {
			t.Errorf("%d gate slots held", h)
		}
	})
}
