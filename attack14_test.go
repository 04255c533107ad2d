package llmretry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

// TestAttack14RetriesServedLastComeFirst: retries (attempt > 1) queued in
// the estimate's line go first, but among themselves last come first
// served: each new retry is pushed to the very front of its tenant's
// queue, ahead of retries that have been waiting longer. Under a stream
// of 429s, the oldest retry is pushed back by every newer one.
func TestAttack14RetriesServedLastComeFirst(t *testing.T) {
	leakcheck.Check(t)
	clk := &stepClock{now: testNow}
	p := estimatedPacer(t, clk)
	lim, _ := p.limit(clk.Now())
	heads := lineHeads(float64(lim.RequestRate))
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	start := func(i int, how acquireHow) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.acquireOr(bg(), 1, clk.Now(), how); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}()
		settle(t, "TestAttack14RetriesServedLastComeFirst")
	}
	// The heads: first attempts.
	for i := 0; i < heads; i++ {
		start(-1-i, 0)
	}
	// Three retries, queued in this order.
	const retries = 3
	for i := 0; i < retries; i++ {
		start(i, sentBefore)
	}
	if got := p.waitLine().waiting(); got != retries {
		t.Fatalf("%d wait in line, want %d", got, retries)
	}
	runOut(t, clk, "TestAttack14RetriesServedLastComeFirst", func() int { mu.Lock(); defer mu.Unlock(); return len(order) }, heads+retries)
	wg.Wait()
	var got []int
	for _, i := range order {
		if i >= 0 {
			got = append(got, i)
		}
	}
	for j, i := range got {
		if i != j {
			t.Fatalf("retries queued in the order 0,1,2 went in the order %v (all: %v): the retry that waited longest went last", got, order)
		}
	}
}

// TestAttack14StrandedBehindOpenedHeads: the line opened when the headers'
// pace took over (open), and every waiter became a head, waiting in the
// limiter's queue at the headers' pace for as long as MaxWait allows,
// holding its place and never stepping. A 429 then brings the estimate
// back: a request that comes now waits in line (the places are all held),
// and nobody calls expire for it: it neither goes unpaced at its until
// (deadline - guessReserve), as on main, nor before its deadline. Its
// context ends in line and it fails.
func TestAttack14StrandedBehindOpenedHeads(t *testing.T) {
	leakcheck.Check(t)
	clk := &stepClock{now: testNow}
	p, hdr := outvotedPacer(clk)
	now := clk.Now()
	lim, src := p.limit(now)
	if src != estimated {
		t.Fatalf("after the 429: %+v from %v, want an estimate", lim, src)
	}
	clk.mu.Lock()
	clk.now = now.Add(time.Second)
	now = clk.now
	clk.mu.Unlock()
	for p.limiter.Wait(deadlineCtx{bg(), now}, p.key, lim, 1) == nil {
	}
	const fn = "TestAttack14StrandedBehindOpenedHeads"
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	const n = 150
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.acquire(bg(), 1, clk.Now()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			done++
			mu.Unlock()
		}()
	}
	settle(t, fn)
	for range 5 {
		observeAt(p, ok200(hdr), clk.Now())
	}
	if _, src := p.limit(clk.Now()); src != learned {
		t.Fatalf("after the answers: pace from %v, want the headers'", src)
	}
	clk.fire() // the head's step ends: it finds the headers' pace and opens the line
	settle(t, fn)
	// A 429 brings the estimate back.
	observeAt(p, limited(hdr), clk.Now())
	at := clk.Now()
	lim, src = p.limit(at)
	t.Logf("after the second 429: %.1f/s from %v; line: %d held of %d heads, %d waiting", float64(lim.RequestRate), src, p.waitLine().held, p.waitLine().heads, p.waitLine().waiting())
	if src != estimated {
		t.Skipf("the second 429 left the pace from %v", src)
	}
	// R: a request with a deadline 2.3 s away: to go unpaced 0.3 s from now.
	deadline := at.Add(guessReserve + 300*time.Millisecond)
	rctx, cancel := context.WithCancel(bg())
	defer cancel()
	var (
		rErr  error
		rAt   time.Time
		rDone bool
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := p.acquire(deadlineCtx{rctx, deadline}, 1, clk.Now())
		mu.Lock()
		rErr, rAt, rDone = err, clk.Now(), true
		mu.Unlock()
	}()
	for {
		settle(t, fn)
		mu.Lock()
		finished := done == n && rDone
		mu.Unlock()
		if finished {
			break
		}
		if !clk.Now().Before(deadline) { // its context ends at its deadline
			cancel()
			settle(t, fn)
		}
		if !clk.fire() {
			mu.Lock()
			finished = rDone
			mu.Unlock()
			if finished {
				break
			}
			t.Fatalf("%d of %d went, and none waits for the clock", done, n)
		}
	}
	wg.Wait()
	if rErr != nil || rAt.Sub(at) > 400*time.Millisecond {
		t.Errorf("a request with its deadline %v away, to go unpaced %v in (deadline - guessReserve): went %v in, error %v", deadline.Sub(at), deadline.Add(-guessReserve).Sub(at), rAt.Sub(at), rErr)
	}
}

// TestAttack14PastUntilBehindAProbe: during an outage's probe (the
// estimate at 1/s, outageSeq set), the line's only head takes its token
// and then sleeps in probeAt for a random share of a second, holding its
// place and calling no expire. A request in line whose until (deadline -
// guessReserve) passes meanwhile goes only when the probe's sleep ends:
// up to a second late, half its reserve for retries gone. On main it went
// at its until.
func TestAttack14PastUntilBehindAProbe(t *testing.T) {
	leakcheck.Check(t)
	const fn = "TestAttack14PastUntilBehindAProbe"
	clk := &stepClock{now: testNow}
	s := &seams{now: clk.Now, sleep: clk.Sleep, rand: func() float64 { return 0.95 }}
	p := newPacer(genericPolicy(), "k", &MemoryLimiter{seams: s}, s)
	now := clk.Now()
	l := p.learning()
	l.mu.Lock()
	l.est.base, l.est.measured, l.est.cutAt, l.est.outageSeq = adaptiveFloor, true, now, 1
	l.mu.Unlock()
	lim, src := p.limit(now)
	if src != estimated || !l.probing(now) {
		t.Fatalf("%+v from %v, probing %v: want an outage's probe", lim, src, l.probing(now))
	}
	for p.limiter.Wait(deadlineCtx{bg(), now}, p.key, lim, 1) == nil { // the burst
	}
	var (
		mu   sync.Mutex
		went = map[string]time.Time{}
		errs = map[string]error{}
		wg   sync.WaitGroup
	)
	start := func(name string, ctx context.Context) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.acquire(ctx, 1, clk.Now())
			mu.Lock()
			went[name], errs[name] = clk.Now(), err
			mu.Unlock()
		}()
		settle(t, fn)
	}
	start("head", bg())
	// Let the head step until just before its token (1 s in).
	for clk.Now().Before(testNow.Add(900 * time.Millisecond)) {
		if !clk.fire() {
			t.Fatal("nothing waits for the clock")
		}
		settle(t, fn)
	}
	// W: to go unpaced 1.2 s in (its deadline 3.2 s in).
	deadline := testNow.Add(1200*time.Millisecond + guessReserve)
	start("w", deadlineCtx{bg(), deadline})
	for {
		settle(t, fn)
		mu.Lock()
		n := len(went)
		mu.Unlock()
		if n == 2 {
			break
		}
		if !clk.fire() {
			t.Fatalf("%d went, and none waits for the clock", n)
		}
	}
	wg.Wait()
	until := deadline.Add(-guessReserve)
	if late := went["w"].Sub(until); late > guessStep || errs["w"] != nil {
		t.Errorf("a request to go unpaced at %v went at %v (%v late, error %v); the head went at %v",
			until.Sub(testNow), went["w"].Sub(testNow), late, errs["w"], went["head"].Sub(testNow))
	}
}
