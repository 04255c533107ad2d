package llmretry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// A higher priority that comes while a large low-priority head sleeps for
// its tokens goes as soon as its own few tokens are there, not when the
// head's many are: the head, nudged, hands over its turn. Before, the
// newcomer waited out the head's whole sleep (here 5 s for 5,000 tokens at
// 1,000/s, where its 50 were there after 50 ms): an inversion under a tokens
// limit, whatever the priorities.
func TestMemoryLimiterBetterWaiterWakesSleepingHead(t *testing.T) {
	t.Parallel()
	ft := &fakeTime{now: testNow}
	sleeping := make(chan time.Duration, 8)
	m := &MemoryLimiter{MinShare: -1, seams: &seams{now: ft.Now, sleep: func(ctx context.Context, d time.Duration) error {
		sleeping <- d
		<-ctx.Done() // the fake clock moves only when the test moves it
		return ctx.Err()
	}}}
	lim := Pace{TokenRate: 1000, TokenBurst: 10000}
	if err := m.Wait(bg(), "k", lim, 10000); err != nil { // empties the bucket
		t.Fatal(err)
	}
	lowCtx, cancelLow := context.WithCancel(prio(0, "batch"))
	defer cancelLow()
	lowErr := make(chan error, 1)
	go func() { lowErr <- m.Wait(lowCtx, "k", lim, 5000) }()
	if d := <-sleeping; d != 5*time.Second {
		t.Fatalf("the low head sleeps %v, want 5s", d)
	}
	ft.Sleep(bg(), time.Second) // 1,000 tokens are there: enough for 50
	highErr := make(chan error, 1)
	go func() { highErr <- m.Wait(prio(1, "chat"), "k", lim, 50) }()
	select {
	case err := <-highErr:
		if err != nil {
			t.Fatalf("the high priority: %v", err)
		}
	case <-time.After(10 * time.Second): // never, unless the head keeps sleeping
		t.Fatal("the high priority waits for the low head's tokens, whose sleep does not end")
	}
	cancelLow()
	if err := <-lowErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the low head: %v, want context.Canceled", err)
	}
	if n := queued(m.get("k")); n != 0 {
		t.Errorf("%d left in the queue", n)
	}
}

// A higher priority that comes while the head sleeps out a pause takes
// the turn and sleeps out the pause itself, so that it goes first when the
// pause ends; the old head waits for its turn (it does not spin, handing
// over a turn that a pause kept it from handing).
func TestMemoryLimiterBetterWaiterDuringPause(t *testing.T) {
	t.Parallel()
	ft := &fakeTime{now: testNow}
	sleeping := make(chan time.Duration, 8)
	m := &MemoryLimiter{MinShare: -1, seams: &seams{now: ft.Now, sleep: func(ctx context.Context, d time.Duration) error {
		sleeping <- d
		<-ctx.Done()
		return ctx.Err()
	}}}
	lim := Pace{RequestRate: 10, RequestBurst: 1}
	if err := m.Wait(bg(), "k", lim, 1); err != nil {
		t.Fatal(err)
	}
	m.Pause(bg(), "k", testNow.Add(3*time.Second))
	lowCtx, cancelLow := context.WithCancel(prio(0, ""))
	defer cancelLow()
	lowErr := make(chan error, 1)
	go func() { lowErr <- m.Wait(lowCtx, "k", lim, 1) }()
	if d := <-sleeping; d != 3*time.Second {
		t.Fatalf("the low head sleeps %v, want the pause's 3s", d)
	}
	ft.Sleep(bg(), time.Second)
	highCtx, cancelHigh := context.WithCancel(prio(1, ""))
	defer cancelHigh()
	highErr := make(chan error, 1)
	go func() { highErr <- m.Wait(highCtx, "k", lim, 1) }()
	select {
	case d := <-sleeping:
		if d != 2*time.Second {
			t.Errorf("the next sleep is %v, want the high priority's 2s left of the pause", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nobody sleeps out the pause: the turn is not handed over")
	}
	b := m.get("k")
	b.mu.Lock()
	high := b.queue.head != nil && b.queue.head.t.lvl.prio == 1
	b.mu.Unlock()
	if !high {
		t.Error("the high priority is not the head")
	}
	cancelHigh()
	cancelLow()
	for _, c := range []chan error{highErr, lowErr} {
		if err := <-c; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	}
}

// Large and small requests of four priorities and five tenants under a
// tokens limit, arriving while heads sleep for their tokens (nudged by
// better newcomers), some cancelled, some with a timer-less deadline: under
// -race, each ends and the queue is left empty.
func TestMemoryLimiterNudgeStress(t *testing.T) {
	t.Parallel()
	var m MemoryLimiter
	lim := Pace{RequestRate: 20000, RequestBurst: 1, TokenRate: 400000, TokenBurst: 2000}
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := prio(i%4, fmt.Sprint(i%5))
			if i%3 == 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(i%11)*time.Millisecond)
				defer cancel()
			}
			if i%5 == 0 {
				ctx = deadlineCtx{ctx, time.Now().Add(time.Duration(i%13) * time.Millisecond)}
			}
			time.Sleep(time.Duration(i%17) * 100 * time.Microsecond)
			err := m.Wait(ctx, "k", lim, 1+(i*37)%3000)
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

// BenchmarkWaitQueue is the cost of releasing one waiter from a key's
// queue and queueing the next, with 1,000 waiting: three priorities, with
// one tenant or a hundred, some with deadlines that pass (the expiry scan).
func BenchmarkWaitQueue(b *testing.B) {
	for _, tenants := range []int{1, 100} {
		b.Run(fmt.Sprintf("waiters=1000/tenants=%d", tenants), func(b *testing.B) {
			const n = 1000
			q := waitQueue{noTurns: true}
			now := testNow
			push := func(i int) {
				w := &waiter{turn: make(chan struct{}), cost: 50 + i%5000}
				if i%10 == 0 {
					w.deadline = now.Add(time.Duration(i%n) * time.Millisecond)
				}
				q.push(w, i%3, tenantNames[i%tenants])
			}
			for i := range n {
				push(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				now = now.Add(time.Millisecond)
				q.expire(now, true)
				w := q.best(true)
				q.release(w, true, defaultMinShare)
				for q.len() < n {
					push(n + i)
				}
			}
		})
	}
}

var tenantNames = func() []string {
	s := make([]string, 100)
	for i := range s {
		s[i] = fmt.Sprint("tenant-", i)
	}
	return s
}()

// A waiter whose deadline has no timer (a learned pace's step) and that a
// later, larger, higher priority overtakes leaves at its deadline, not when
// the head's long wait for its tokens ends: the head wakes at the earliest
// deadline in the queue to take expired waiters out.
func TestBucketsHeadWakesAtAnOvertakenDeadline(t *testing.T) {
	t.Parallel()
	lim := Pace{TokenRate: 1000, TokenBurst: 10000}
	b := &buckets{}
	if w, _ := b.join(bg(), testNow, lim, 10000, math.MaxInt64); w != nil { // empties the bucket
		t.Fatal("the first request waits")
	}
	first, _ := b.join(prio(0, ""), testNow, lim, 1, math.MaxInt64)
	low, err := b.join(deadlineCtx{prio(0, ""), testNow.Add(time.Second)}, testNow, lim, 50, time.Second)
	if err != nil || low == nil {
		t.Fatalf("the low waiter within its deadline: %v, %v", low, err)
	}
	high, _ := b.join(prio(1, ""), testNow, lim, 5000, math.MaxInt64)
	if d, _ := b.headTake(first, testNow, lim, math.MaxInt64, 0); d != -1 {
		t.Fatalf("the first head returns %v, want -1: the high priority's turn", d)
	}
	d, err := b.headTake(high, testNow, lim, math.MaxInt64, 0)
	if err != nil || d <= 0 || d > time.Second {
		t.Fatalf("the high head sleeps %v, %v; want at most the 1s to the low waiter's deadline", d, err)
	}
	if d, err := b.headTake(high, testNow.Add(time.Second), lim, math.MaxInt64, 0); err != nil || d != 4*time.Second {
		t.Errorf("at the deadline, the high head sleeps %v, %v; want the 4s left", d, err)
	}
	select {
	case <-b.turnOf(low):
	default:
		t.Fatal("the overtaken waiter was not woken at its deadline")
	}
	if _, err := b.headTake(low, testNow.Add(time.Second), lim, math.MaxInt64, 0); !errors.Is(err, ErrDeadline) {
		t.Errorf("the overtaken waiter: %v, want ErrDeadline", err)
	}
}

// A lower priority's deadline counts its guaranteed share: behind 1,000
// higher-priority waiters at 10 requests/s, with MinShare 5%, a low one goes
// after about 19 of them (2 s), so it joins within a 3 s deadline, goes
// within it, and still fails at once within 1 s. Before, the whole higher
// backlog (100 s) was counted, and every low request with a deadline failed
// at once with ErrDeadline while the key was saturated: the share it was
// promised never served a request that had a timeout.
func TestBucketsLowPriorityDeadlineCountsItsShare(t *testing.T) {
	t.Parallel()
	lim := Pace{RequestRate: 10, RequestBurst: 1}
	const share = 0.05
	b := &buckets{share: share}
	b.join(bg(), testNow, lim, 1, math.MaxInt64)
	for range 1000 {
		if _, err := b.join(prio(1, ""), testNow, lim, 1, math.MaxInt64); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.join(prio(0, ""), testNow, lim, 1, time.Second); !errors.Is(err, ErrDeadline) {
		t.Errorf("a low priority within 1s: %v, want ErrDeadline (its share takes about 2s)", err)
	}
	low, err := b.join(prio(0, ""), testNow, lim, 1, 3*time.Second)
	if err != nil || low == nil {
		t.Fatalf("a low priority within 3s: %v, %v; want it queued", low, err)
	}
	now := testNow
	for i := 0; ; i++ {
		b.mu.Lock()
		head := b.queue.head
		b.mu.Unlock()
		d, err := b.headTake(head, now, lim, math.MaxInt64, share)
		switch {
		case err != nil:
			t.Fatal(err)
		case d > 0:
			now = now.Add(d)
		case d == 0 && head == low:
			if waited := now.Sub(testNow); waited > 3*time.Second {
				t.Errorf("the low priority went after %v, past its 3s", waited)
			}
			return
		}
		if i > 2000 {
			t.Fatal("the low priority never went")
		}
	}
}
