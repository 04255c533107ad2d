package llmretry

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

// stepClock is a fake clock whose sleeps block until the test moves time
// past their end (fire), so that many waiters can share it: the test lets
// time pass one timer at a time, once every waiter has settled.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	sleeps []*stepSleep
}

type stepSleep struct {
	until time.Time
	seq   int
	done  chan struct{}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	c.seq++
	s := &stepSleep{until: c.now.Add(d), seq: c.seq, done: make(chan struct{})}
	c.sleeps = append(c.sleeps, s)
	c.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.sleeps = slices.DeleteFunc(c.sleeps, func(x *stepSleep) bool { return x == s })
		c.mu.Unlock()
		return ctx.Err()
	}
}

// fire moves time to the end of the earliest sleep and ends it: of sleeps
// that end at the same instant, the latest begun (the order in which timers
// that fire together wake is not specified). It reports false if none
// sleeps.
func (c *stepClock) fire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sleeps) == 0 {
		return false
	}
	i := 0
	for j, s := range c.sleeps {
		if s.until.Before(c.sleeps[i].until) || s.until.Equal(c.sleeps[i].until) && s.seq > c.sleeps[i].seq {
			i = j
		}
	}
	s := c.sleeps[i]
	c.sleeps = slices.Delete(c.sleeps, i, i+1)
	c.now = maxTime(c.now, s.until)
	close(s.done)
	return true
}

// settle returns once every goroutine that fn (the test's function, by
// name) started is blocked on a channel: none can move until the clock
// does.
func settle(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for i := 0; ; i++ {
		runtime.Gosched()
		n := runtime.Stack(buf, true)
		busy := false
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if !strings.Contains(g, "created by github.com/llmretry/llmretry."+fn) {
				continue
			}
			head, _, _ := strings.Cut(g, "\n")
			if !strings.Contains(head, "[select") && !strings.Contains(head, "[chan receive") {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		if i > 1e6 {
			t.Fatal("the waiters never settled")
		}
	}
}

// outvotedPacer is a pacer on clk whose headers claim 3 per 100 ms (about
// 30/s) while 10/s were accepted, then refused: the 429 is not theirs to
// explain, and the estimate (10/s) paces. hdr is the headers.
func outvotedPacer(clk *stepClock) (p *pacer, hdr http.Header) {
	s := &seams{now: clk.Now, sleep: clk.Sleep, rand: func() float64 { return 0.5 }}
	p = newPacer(genericPolicy(), "k", &MemoryLimiter{seams: s}, s)
	hdr = http.Header{"X-Ratelimit-Limit-Requests": {"3"}, "X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"100ms"}}
	now := clk.Now()
	for i := 0; i < 20; i++ {
		observeAt(p, ok200(hdr), now.Add(time.Duration(i-20)*100*time.Millisecond))
	}
	observeAt(p, limited(hdr), now)
	return p, hdr
}

// runOut fires clk, settling fn's goroutines between fires, until count
// reports n: every waiter has gone.
func runOut(t *testing.T, clk *stepClock, fn string, count func() int, n int) {
	t.Helper()
	for {
		settle(t, fn)
		done := count()
		if done == n {
			return
		}
		if !clk.fire() {
			t.Fatalf("%d of %d went, and none waits for the clock", done, n)
		}
	}
}

// estimatedPacer is a pacer on clk under an estimate of about 20/s, its
// burst spent.
func estimatedPacer(t *testing.T, clk *stepClock) *pacer {
	t.Helper()
	s := &seams{now: clk.Now, sleep: clk.Sleep, rand: func() float64 { return 0.5 }}
	p := newPacer(genericPolicy(), "k", &MemoryLimiter{seams: s}, s)
	now := clk.Now()
	for i := 0; i < 20; i++ { // 20 accepted in the last second, then a 429
		observeAt(p, ok200(nil), now.Add(time.Duration(i-20)*40*time.Millisecond))
	}
	observeAt(p, limited(nil), now)
	lim, src := p.limit(now)
	if src != estimated || lim.RequestRate < 10 || lim.RequestRate > 30 {
		t.Fatalf("limit %+v from %v: want an estimate of about 20/s", lim, src)
	}
	for p.limiter.Wait(deadlineCtx{bg(), now}, p.key, lim, 1) == nil { // the burst
	}
	return p
}

// TestLineServesInOrder: requests held by the estimate go in the order they
// came, give or take the few that ask the limiter at once (the line's
// heads), whatever the order in which timers that fire together wake them.
// Before the line, each asked the limiter for a turn within 100 ms and
// slept 100 ms if it got none: the last to come went among the first.
func TestLineServesInOrder(t *testing.T) {
	leakcheck.Check(t)
	clk := &stepClock{now: testNow}
	p := estimatedPacer(t, clk)
	lim, _ := p.limit(clk.Now())
	const n = 30
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.acquire(bg(), 1, clk.Now()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}()
		settle(t, "TestLineServesInOrder")
	}
	runOut(t, clk, "TestLineServesInOrder", func() int { mu.Lock(); defer mu.Unlock(); return len(order) }, n)
	wg.Wait()
	slack := lineHeads(float64(lim.RequestRate)) + 1
	for j, i := range order {
		if d := i - j; d > slack || -d > slack {
			t.Fatalf("went in the order %v: request %d went %d-th (slack %d)", order, i, j, slack)
		}
	}
	if took := clk.Now().Sub(testNow); took > time.Duration(float64(n+1)/float64(lim.RequestRate)*float64(time.Second))*3/2 {
		t.Errorf("%d requests at %.1f/s took %v", n, float64(lim.RequestRate), took)
	}
}

// TestLineLeaves: a waiter in line whose context ends leaves it, holding
// no place, and the others keep their order; one still in line where it
// would have gone unpaced (guessReserve before its deadline) goes then,
// as before the line; no goroutine outlives them (leakcheck).
func TestLineLeaves(t *testing.T) {
	leakcheck.Check(t)
	clk := &stepClock{now: testNow}
	p := estimatedPacer(t, clk)
	heads := p.waitLine().heads
	if heads == 0 {
		heads = lineHeads(20)
	}
	var (
		mu    sync.Mutex
		order []int
		errs  = map[int]error{}
		wg    sync.WaitGroup
	)
	n := heads + 3
	cancelled, reserved := heads, heads+1 // the first two in line
	ctxs := make([]context.Context, n)
	cancels := make([]context.CancelFunc, n)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(bg())
		defer cancels[i]()
	}
	ctxs[reserved] = deadlineCtx{ctxs[reserved], testNow.Add(guessReserve + 250*time.Millisecond)}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.acquire(ctxs[i], 1, clk.Now())
			mu.Lock()
			order = append(order, i)
			errs[i] = err
			at := clk.Now()
			mu.Unlock()
			if i == reserved && at.Sub(testNow) > 400*time.Millisecond {
				t.Errorf("request %d, to go unpaced 250 ms in, went %v in", i, at.Sub(testNow))
			}
		}()
		settle(t, "TestLineLeaves")
	}
	if got := p.waitLine().waiting(); got != n-heads {
		t.Fatalf("%d wait in line, want %d", got, n-heads)
	}
	cancels[cancelled]()
	settle(t, "TestLineLeaves")
	if got := p.waitLine().waiting(); got != n-heads-1 {
		t.Fatalf("after a cancel: %d wait in line, want %d", got, n-heads-1)
	}
	runOut(t, clk, "TestLineLeaves", func() int { mu.Lock(); defer mu.Unlock(); return len(order) }, n)
	wg.Wait()
	for i, err := range errs {
		if want := error(nil); i == cancelled {
			if !errorsIs(err, context.Canceled) {
				t.Errorf("request %d, cancelled in line: %v", i, err)
			}
		} else if err != want {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if p.waitLine().held != 0 || p.waitLine().waiting() != 0 {
		t.Errorf("left: %d heads, %d in line", p.waitLine().held, p.waitLine().waiting())
	}
	if last := order[len(order)-1]; last != n-1 {
		t.Errorf("went in the order %v: want %d last", order, n-1)
	}
}

// TestLineNoAlloc: a request under the estimate that finds its tokens and
// nobody waiting takes a head's place and gives it back without allocation.
func TestLineNoAlloc(t *testing.T) {
	p, ft := testPacer(genericPolicy())
	observeAt(p, ok200(nil), testNow)
	observeAt(p, limited(nil), testNow)
	if _, src := p.limit(testNow); src != estimated {
		t.Fatal("no estimate")
	}
	ft.now = testNow
	allocs := testing.AllocsPerRun(50, func() {
		ft.mu.Lock()
		ft.now = ft.now.Add(5 * time.Second)
		ft.mu.Unlock()
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations a request", allocs)
	}
}

// TestLineOpensWhenTheEstimateGivesWay: when the estimate grows past what
// the headers announce, the headers' pace takes over, which the limiter
// keeps and serves in order: the line lets its waiters go to it. Kept in
// line, they went one at a time as the head's place came free, behind
// every request that came after.
func TestLineOpensWhenTheEstimateGivesWay(t *testing.T) {
	leakcheck.Check(t)
	clk := &stepClock{now: testNow}
	p, hdr := outvotedPacer(clk)
	now := clk.Now()
	lim, src := p.limit(now)
	if src != estimated || lineHeads(float64(lim.RequestRate)) != 1 {
		t.Fatalf("after the 429: %+v from %v, want an estimate of about 10/s", lim, src)
	}
	clk.mu.Lock()
	clk.now = now.Add(time.Second) // past the 429's pause
	now = clk.now
	clk.mu.Unlock()
	for p.limiter.Wait(deadlineCtx{bg(), now}, p.key, lim, 1) == nil { // the burst
	}

	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.acquire(bg(), 1, clk.Now()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}()
		settle(t, "TestLineOpensWhenTheEstimateGivesWay")
	}
	const inLine, after = 8, 4
	for i := 0; i < inLine; i++ {
		start(i)
	}
	if got := p.waitLine().waiting(); got != inLine-1 {
		l, s := p.limit(clk.Now())
		t.Fatalf("%d in line (%d heads of %d), want %d; %+v %v; paused %v", got, p.waitLine().held, p.waitLine().heads, inLine-1, l, s, p.resumeAt(clk.Now())-clk.Now().UnixNano())
	}
	// Five answers accepted at once: the estimate grows past the headers'
	// 30/s, which pace from now on.
	for range 5 {
		observeAt(p, ok200(hdr), clk.Now())
	}
	if _, src := p.limit(clk.Now()); src != learned {
		t.Fatalf("after the answers: pace from %v, want the headers'", src)
	}
	clk.fire() // the head's step ends: it finds the headers' pace
	settle(t, "TestLineOpensWhenTheEstimateGivesWay")
	for i := inLine; i < inLine+after; i++ {
		start(i)
	}
	runOut(t, clk, "TestLineOpensWhenTheEstimateGivesWay", func() int { mu.Lock(); defer mu.Unlock(); return len(order) }, inLine+after)
	wg.Wait()
	for j, i := range order[:inLine] {
		if i >= inLine {
			t.Fatalf("went in the order %v: request %d, which came after the headers' pace took over, went %d-th, before those in line", order, i, j)
		}
	}
}

// TestLineRetryGoesFirst: a request sent before (a retry after its 429)
// takes the first place in line, not the last: it has waited its turn
// once already. At the back, a request refused twice waited three turns
// of the line (latprobe, 64 workers: p99 1.5–2.1 s where a configured
// limit's was 650 ms).
func TestLineRetryGoesFirst(t *testing.T) {
	leakcheck.Check(t)
	l := &line{share: defaultMinShare}
	far := testNow.Add(time.Hour)
	if head, err := l.enter(bg(), testNow, 1, far, false); !head || err != nil {
		t.Fatalf("the first request: head %v, %v", head, err)
	}
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i, again := range []bool{false, false, false, true} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			head, err := l.enter(bg(), testNow, 1, far, again)
			if !head || err != nil {
				t.Errorf("request %d: head %v, %v", i, head, err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			l.leave()
		}()
		settle(t, "TestLineRetryGoesFirst")
	}
	l.leave()
	wg.Wait()
	if want := []int{3, 0, 1, 2}; !slices.Equal(order, want) {
		t.Errorf("went in the order %v, want %v (the retry first)", order, want)
	}
}
