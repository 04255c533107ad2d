package llmretry

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

// reserveAt queues a request costing tokens on b at now and, as the
// queue's head, takes its tokens at once (into debt: the same as taking them
// when they are there), as a request that then goes after its wait; it
// returns its wait (the time left of a pause, taking nothing, during one).
func reserveAt(t *testing.T, b *buckets, now time.Time, lim Pace, tokens int) (time.Duration, bool) {
	t.Helper()
	w, err := b.join(bg(), now, lim, tokens, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	if w == nil {
		return 0, true
	}
	d, err := b.headTake(w, now, lim, math.MaxInt64, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d == 0 {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	took := !now.Before(b.paused)
	if took {
		b.req.take(now, 1)
		b.tok.take(now, float64(tokens))
	}
	b.queue.remove(w, b.byTokens())
	return d, took
}

func TestBucketsReserve(t *testing.T) {
	t.Parallel()
	t0 := testNow
	lim := Pace{RequestRate: 10, RequestBurst: 2}
	b := &buckets{}
	var got []time.Duration
	for i := 0; i < 4; i++ {
		d, _ := reserveAt(t, b, t0, lim, 1)
		got = append(got, d)
	}
	if want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("delays = %v, want %v", got, want)
	}
}

// A request that costs more than the bucket holds goes when the bucket is
// full, and is charged in full: the rest is a debt the next one waits out.
func TestBucketsCostOverBurstIsChargedInFull(t *testing.T) {
	t.Parallel()
	t0 := testNow
	lim := Pace{TokenRate: 100, TokenBurst: 1000}
	b := &buckets{}
	if d, _ := reserveAt(t, b, t0, lim, 5000); d != 0 {
		t.Fatalf("first request over the burst waits %v, want 0 (the bucket is full)", d)
	}
	if d, _ := reserveAt(t, b, t0, lim, 5000); d != 50*time.Second {
		t.Errorf("second waits %v, want 50s: the 4000-token debt, then a full bucket", d)
	}
}

func TestBucketsPauseReleasesAtPacedRate(t *testing.T) {
	t.Parallel()
	t0 := testNow
	lim := Pace{RequestRate: 10, RequestBurst: 5}
	b := &buckets{}
	reserveAt(t, b, t0, lim, 1) // set the limit; 4 tokens left
	b.pause(t0, t0.Add(200*time.Millisecond))
	if d, took := reserveAt(t, b, t0.Add(50*time.Millisecond), lim, 1); d != 150*time.Millisecond || took {
		t.Errorf("during the pause: wait %v, want the 150ms left and no reservation", d)
	}
	// The bucket was emptied at t0 and refilled 2 tokens in 200ms: two go at
	// the end of the pause, then one every 100ms — not the whole herd.
	end := t0.Add(200 * time.Millisecond)
	var got []time.Duration
	for i := 0; i < 4; i++ {
		d, _ := reserveAt(t, b, end, lim, 1)
		got = append(got, d)
	}
	if want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("after the pause: delays %v, want %v", got, want)
	}
}

func TestMemoryLimiterDeadline(t *testing.T) {
	t.Parallel()
	var m MemoryLimiter
	lim := Pace{RequestRate: 1, RequestBurst: 1}
	ctx := context.Background()
	if err := m.Wait(ctx, "k", lim, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := m.Wait(ctx, "k", lim, 1)
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	if time.Since(start) > 50*time.Millisecond {
		t.Error("a wait that cannot end before the deadline must fail at once, not sleep")
	}
	// The failed wait gave its token back: the next one is due in ~1s, not ~2s.
	if d, _ := reserveAt(t, m.get("k"), time.Now(), lim, 1); d > 1100*time.Millisecond {
		t.Errorf("next wait %v: the abandoned reservation was not given back", d)
	}
}

func TestMemoryLimiterCancelGivesBack(t *testing.T) {
	t.Parallel()
	var m MemoryLimiter
	lim := Pace{RequestRate: 2, RequestBurst: 1}
	m.Wait(context.Background(), "k", lim, 1) // take the burst
	ctx, cancel := context.WithCancel(context.Background())
	m.seams = &seams{sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	if err := m.Wait(ctx, "k", lim, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d, _ := reserveAt(t, m.get("k"), time.Now(), lim, 1); d > 510*time.Millisecond {
		t.Errorf("next wait %v, want ≤ 500ms: a cancelled wait must give its reservation back", d)
	}
}

// needs is the wait m reports for one more request on key at the fake now,
// from the ErrDeadline of a request that cannot wait at all.
func needs(t *testing.T, m *MemoryLimiter, key string, lim Pace, tokens int) time.Duration {
	t.Helper()
	ctx, cancel := context.WithDeadline(bg(), m.clock())
	defer cancel()
	err := m.Wait(ctx, key, lim, tokens)
	if err == nil {
		return 0
	}
	msg := err.Error()
	i := strings.Index(msg, "(needs ")
	if !errors.Is(err, ErrDeadline) || i < 0 {
		t.Fatalf("err = %v, want ErrDeadline with the wait", err)
	}
	d, perr := time.ParseDuration(strings.TrimSuffix(msg[i+len("(needs "):], ")"))
	if perr != nil {
		t.Fatal(perr)
	}
	return d
}

// Waiters that give up, in any order, give their places back: the key is
// not stalled for the time they would have held (issue 21, item 7).
func TestMemoryLimiterCancelledWaitersInAnyOrder(t *testing.T) {
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
			lim := (&Limits{RequestsPerMinute: 60, RequestBurst: 1}).limit()
			if err := m.Wait(bg(), "k", lim, 1); err != nil { // takes the burst
				t.Fatal(err)
			}
			cancels := make([]context.CancelFunc, n)
			errs := make(chan error, n)
			for i := range n {
				ctx, cancel := context.WithCancel(bg())
				cancels[i] = cancel
				go func() { errs <- m.Wait(ctx, "k", lim, 1) }()
				// Queued when the next request is told to wait one more slot.
				want := time.Duration(float64(i+2) / float64(lim.RequestRate) * float64(time.Second))
				for needs(t, m, "k", lim, 1) < want-10*time.Millisecond {
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
			ft.Sleep(bg(), 1500*time.Millisecond)
			if d := needs(t, m, "k", lim, 1); d != 0 {
				t.Errorf("1.5s after the waiters gave up, a request needs %v, want 0", d)
			}
		})
	}
}

// A configured token rate holds whatever the requests cost, also when one
// costs more than the bucket holds (issue 21, item 11): over any run the
// tokens sent are at most the burst plus the rate times the run.
func TestMemoryLimiterTokenRateHoldsForLargeRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits Limits
		cost   int
	}{
		{"default burst", Limits{TokensPerMinute: 60}, 25},
		{"burst 1", Limits{TokensPerMinute: 60, TokenBurst: 1}, 25},
		{"30k TPM, 17k requests", Limits{TokensPerMinute: 30000}, 17000},
		{"under the burst", Limits{TokensPerMinute: 600}, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeTime{now: testNow}
			m := &MemoryLimiter{seams: &seams{now: ft.Now, sleep: ft.Sleep}}
			lim := tt.limits.limit()
			const sends = 200
			for range sends {
				if err := m.Wait(bg(), "k", lim, tt.cost); err != nil {
					t.Fatal(err)
				}
			}
			// The last request went at the fake now.
			span := ft.Now().Sub(testNow).Minutes()
			sent := float64(sends * tt.cost)
			allowed := float64(lim.TokenBurst) + tt.limits.TokensPerMinute*span + float64(tt.cost)
			if sent > allowed {
				t.Errorf("sent %.0f tokens in %.2f min, allowed %.0f (%.1f× the rate)",
					sent, span, allowed, sent/(tt.limits.TokensPerMinute*span))
			}
			// And no slower than the rate with its headroom.
			if min := float64(lim.TokenRate) * 60 * span * 0.99; sent-float64(lim.TokenBurst) < min-float64(tt.cost) {
				t.Errorf("sent %.0f tokens in %.2f min: slower than the rate", sent, span)
			}
		})
	}
}

// TestMemoryLimiterWakesForAnEarlierDeadline: a waiter that joins behind a
// head asleep for its tokens, with a deadline before the head would wake
// (a step of the estimate's line, 100 ms, behind a head paced at the
// headers' slow rate as the key's pace changed), is let go at its
// deadline, not when the head wakes: its context has no timer of its own
// (deadlineCtx), and it went 2 s late, holding its line's place (attack
// 15).
func TestMemoryLimiterWakesForAnEarlierDeadline(t *testing.T) {
	leakcheck.Check(t)
	clk := &stepClock{now: testNow}
	s := &seams{now: clk.Now, sleep: clk.Sleep}
	m := &MemoryLimiter{seams: s}
	slow, fast := Pace{RequestRate: 0.5, RequestBurst: 1}, Pace{RequestRate: 100, RequestBurst: 1}
	if err := m.Wait(bg(), "k", slow, 1); err != nil { // the burst
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		doneB time.Time
	)
	wg.Add(2)
	go func() { // the head: 2 s at the slow pace
		defer wg.Done()
		if err := m.Wait(bg(), "k", slow, 1); err != nil {
			t.Error(err)
		}
	}()
	settle(t, "TestMemoryLimiterWakesForAnEarlierDeadline")
	deadline := clk.Now().Add(100 * time.Millisecond)
	go func() {
		defer wg.Done()
		m.Wait(deadlineCtx{bg(), deadline}, "k", fast, 1) // served or not: by its deadline
		mu.Lock()
		doneB = clk.Now()
		mu.Unlock()
	}()
	settle(t, "TestMemoryLimiterWakesForAnEarlierDeadline")
	for {
		mu.Lock()
		done := !doneB.IsZero()
		mu.Unlock()
		if done || !clk.fire() {
			break
		}
		settle(t, "TestMemoryLimiterWakesForAnEarlierDeadline")
	}
	mu.Lock()
	late := doneB.Sub(deadline)
	mu.Unlock()
	if doneB.IsZero() || late > 0 {
		t.Errorf("a waiter with a deadline 100 ms away, behind a head asleep 2 s, returned %v after its deadline", late)
	}
	for clk.fire() {
		settle(t, "TestMemoryLimiterWakesForAnEarlierDeadline")
	}
	wg.Wait()
}
