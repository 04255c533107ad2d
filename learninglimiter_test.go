package llmretry

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// fleetEstimator is a LearningLimiter in memory: it holds the estimate the
// test sets (a Refused cuts it to cutTo), and counts what it is told.
type fleetEstimator struct {
	MemoryLimiter
	mu                sync.Mutex
	rate, cutTo       float64
	measured          bool
	accepted, refused int
}

func (f *fleetEstimator) Estimate(string) (float64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rate, f.measured
}

func (f *fleetEstimator) Accepted(string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted++
}

func (f *fleetEstimator) Refused(context.Context, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused++
	f.rate, f.measured = f.cutTo, true
}

// fleetSetup is setup with a key paced by a fleetEstimator whose estimate
// (1e6/s) never holds a request: retries retries, backoffs from 50 ms.
func fleetSetup(t *testing.T, retries int) (*Transport, *llmretrytest.Server, *fakeTime, *fleetEstimator) {
	pol := genericPolicy()
	pol.MaxRetries = retries
	pol.BaseDelay = 50 * time.Millisecond
	fleet := &fleetEstimator{rate: 1e6, cutTo: 1e6, measured: true}
	pol.Limits.Limiter = fleet
	tr, srv, ft := setup(t, pol)
	return tr, srv, ft, fleet
}

func (f *fleetEstimator) told() (accepted, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted, f.refused
}

// A key on a LearningLimiter, with no configured request rate, is paced at
// the estimate the Limiter holds for the fleet, in place of its own: before it learned anything itself, and after
// its own first 429, whose own guess (what the server accepted from this
// process over the last second) is a share. It tells the Limiter of its accepted answers and unexplained
// 429s, and the retry's wait after a whole-second Retry-After follows the
// fleet's estimate being measured (hintWait).
func TestPacingSharedEstimate(t *testing.T) {
	t.Parallel()
	fleet := &fleetEstimator{rate: 80, cutTo: 56, measured: true}
	pol := genericPolicy()
	pol.Limits.Limiter = fleet
	p, _ := testPacer(pol)
	if lim, src := p.limit(testNow); lim.RequestRate != 80 || !lim.Estimated || src != estimated {
		t.Errorf("nothing learned here: pace %+v (%v), want the fleet's estimate, 80/s", lim, src)
	}
	observeAt(p, ok200(nil), testNow)
	observeAt(p, limited(nil), testNow.Add(time.Millisecond))
	if a, r := fleet.told(); a != 1 || r != 1 {
		t.Errorf("told %d accepted, %d refused; want 1 and 1", a, r)
	}
	if lim, src := p.limit(testNow.Add(time.Millisecond)); lim.RequestRate != 56 || src != estimated {
		t.Errorf("after a 429: pace %+v (%v), want the fleet's cut, 56/s, not this process's own guess", lim, src)
	}
	if !p.estimateMeasured(testNow) {
		t.Error("the fleet's estimate is measured: the key's must be")
	}

	// A fleet's estimate in its slow start paces the key too; the retry's
	// whole-second hint is then waited whole (hintWait).
	fleet = &fleetEstimator{rate: 80}
	pol = genericPolicy()
	pol.Limits.Limiter = fleet
	p, _ = testPacer(pol)
	if lim, _ := p.limit(testNow); lim.RequestRate != 80 || p.estimateMeasured(testNow) {
		t.Errorf("the fleet's estimate in a slow start: pace %+v (measured %v), want 80/s, not measured", lim, p.estimateMeasured(testNow))
	}

	// A configured request rate: the Limiter is told nothing, and its
	// estimate does not pace the key.
	fleet = &fleetEstimator{rate: 80, cutTo: 56, measured: true}
	pol = genericPolicy()
	pol.Limits = Limits{RequestsPerMinute: 600, Limiter: fleet}
	p, _ = testPacer(pol)
	observeAt(p, ok200(nil), testNow)
	observeAt(p, limited(nil), testNow.Add(time.Millisecond))
	if a, r := fleet.told(); a != 0 || r != 0 {
		t.Errorf("configured: told %d accepted, %d refused; want none", a, r)
	}
	if lim, _ := p.limit(testNow); lim.RequestRate > 10 || lim.Estimated {
		t.Errorf("configured: pace %+v, want the configured 10/s (with headroom)", lim)
	}
}

// A request refused with a bare 429 on a key paced by the fleet's
// estimate sleeps its backoff until the server accepts an attempt sent
// after the 429, then goes (pacer.retryWake): at a fleet's end, the last
// requests refused by the pace's probe no longer sleep 250–500 ms with the
// server idle. A 429 on that attempt (a blip, an outage) wakes nobody: the
// whole backoff is slept.
func TestRetryWakesOnAcceptedAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fleet     bool                // the key's Limiter holds the fleet's estimate
		other     []llmretrytest.Step // the answers to a request sent during the backoff
		wantEarly bool
	}{
		{"accepted after the 429", true, []llmretrytest.Step{{}}, true},
		{"refused after the 429 (a blip)", true, []llmretrytest.Step{{Status: 429}, {Status: 429}, {Status: 429}}, false},
		{"no fleet estimate", false, []llmretrytest.Step{{}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := genericPolicy()
			if tc.fleet {
				pol.Limits.Limiter = &fleetEstimator{rate: 1000, cutTo: 1000, measured: true}
			}
			tr, srv, ft := setup(t, pol)
			srv.Enqueue(llmretrytest.Step{Status: 429})
			srv.Enqueue(tc.other...)
			srv.Enqueue(llmretrytest.Step{}) // the refused request's retry

			var once sync.Once
			var backoff time.Duration
			woken := false
			tr.seams.sleep = func(ctx context.Context, d time.Duration) error {
				first := false
				once.Do(func() { first = true })
				if !first {
					return ft.Sleep(ctx, d)
				}
				backoff = d
				// Another request, sent during the backoff, after the 429.
				if resp, _, err := post(t, tr, srv.URL); err != nil {
					t.Errorf("the other request: %v", err)
				} else {
					resp.Body.Close()
				}
				select {
				case <-ctx.Done():
					woken = true
					return ctx.Err()
				case <-time.After(500 * time.Millisecond): // real time: the wake, if any, is at once
					return ft.Sleep(ctx, d)
				}
			}
			resp, _, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if backoff < 250*time.Millisecond {
				t.Fatalf("backoff %v, want the first step (250–500 ms)", backoff)
			}
			if woken != tc.wantEarly {
				t.Errorf("backoff ended early: %v, want %v", woken, tc.wantEarly)
			}
		})
	}
}

// fleetWakerEstimator is a fleetEstimator that also shares the fleet's
// accepted sends (fleetWaker): the test tells it of another process's
// (otherAccepted), the Transport of its own.
type fleetWakerEstimator struct {
	fleetEstimator
	cond   *sync.Cond // on fleetEstimator.mu: okSent moved
	okSent time.Time  // the latest send of an attempt accepted, any process
	told   int        // AcceptedSent calls
}

func newFleetWakerEstimator() *fleetWakerEstimator {
	f := &fleetWakerEstimator{fleetEstimator: fleetEstimator{rate: 1000, cutTo: 1000, measured: true}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *fleetWakerEstimator) AcceptedSent(_ string, sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.told++
	f.otherAcceptedLocked(sent)
}

func (f *fleetWakerEstimator) otherAccepted(sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.otherAcceptedLocked(sent)
}

func (f *fleetWakerEstimator) otherAcceptedLocked(sent time.Time) {
	if sent.After(f.okSent) {
		f.okSent = sent
		f.cond.Broadcast()
	}
}

func (f *fleetWakerEstimator) AcceptedAfter(ctx context.Context, _ string, at time.Time) bool {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.cond.Broadcast()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.okSent.After(at) {
		if ctx.Err() != nil {
			return false
		}
		f.cond.Wait()
	}
	return true
}

// A bare 429's retry on a key paced by the fleet's estimate wakes at an
// answer another process of the fleet saw accepted, for an attempt sent
// after the 429, when the Limiter shares them (fleetWaker): a process
// whose last requests were refused, while the others' were accepted,
// slept its whole backoff with the server idle (bench fleet on
// redislimit, docs/runs/2026-12-07-rdstart.md). An attempt sent before the
// 429 (answered after it, as a long generation is) is no evidence, and
// without a fleetWaker the other processes' answers are not seen.
func TestRetryWakesOnFleetAcceptedAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		waker     bool          // the Limiter shares the fleet's accepted sends
		sent      time.Duration // the other process's accepted attempt: sent this long after the 429's decision
		wantEarly bool
	}{
		{"sent after the 429", true, time.Millisecond, true},
		{"sent before the 429", true, -time.Millisecond, false},
		{"no fleetWaker", false, time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := genericPolicy()
			fw := newFleetWakerEstimator()
			if tc.waker {
				pol.Limits.Limiter = fw
			} else {
				pol.Limits.Limiter = &fw.fleetEstimator
			}
			tr, srv, ft := setup(t, pol)
			srv.Enqueue(llmretrytest.Step{Status: 429}, llmretrytest.Step{})

			var once sync.Once
			var backoff time.Duration
			woken := false
			tr.seams.sleep = func(ctx context.Context, d time.Duration) error {
				first := false
				once.Do(func() { first = true })
				if !first {
					return ft.Sleep(ctx, d)
				}
				backoff = d
				// Another process's attempt, accepted: the clock stands
				// still, so the decision was now.
				fw.otherAccepted(ft.Now().Add(tc.sent))
				select {
				case <-ctx.Done():
					woken = true
					return ctx.Err()
				case <-time.After(500 * time.Millisecond): // real time: the wake, if any, is at once
					return ft.Sleep(ctx, d)
				}
			}
			resp, _, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if backoff < 250*time.Millisecond {
				t.Fatalf("backoff %v, want the first step (250–500 ms)", backoff)
			}
			if woken != tc.wantEarly {
				t.Errorf("backoff ended early: %v, want %v", woken, tc.wantEarly)
			}
			fw.mu.Lock()
			told := fw.told
			fw.mu.Unlock()
			if want := map[bool]int{true: 1, false: 0}[tc.waker]; told != want {
				t.Errorf("told of %d accepted sends, want %d (the retry's)", told, want)
			}
		})
	}
}

// A bare 429's retry, refused again after the server accepted an attempt
// of the key sent after its previous 429 (woken by it, or at the end of
// its backoff), does not cut the fleet's estimate when such a run of 429s
// is improbable at the key's share of 429s (ownRefusal): the first cut it
// already, and the server, taking the others, refuses the request, not the
// pace. Requests the server refused for themselves for 1.5 s cut a
// zero-config fleet's estimate with every retry (bench fleet on
// redislimit, every 20th request so refused, 4 processes, 10 retries:
// 2.13–2.46× where openai-go took 1.55–2.27×). With nothing accepted in
// between (a blip, a limit that dropped), or at a share of 429s a pace over
// the server draws, every 429 cuts, as before.
func TestRefusedAgainAfterAnAcceptedAttemptDoesNotCutTheFleetsEstimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		others      []int // per backoff of the request: other requests, accepted, sent during it
		wantRefused int   // Refused calls: the request's 429s that cut
	}{
		// MaxRetries 3: the first backoff may be woken, the second not
		// (mayWake), and runs whole.
		{"accepted during each backoff, 429s rare", []int{50, 50, 0}, 1},
		{"accepted during the first only", []int{50, 0, 0}, 2},
		{"nothing accepted in between", []int{0, 0, 0}, 3},
		{"accepted during each backoff, 429s common", []int{1, 1, 0}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := genericPolicy()
			pol.MaxRetries = 3
			pol.BaseDelay = 100 * time.Millisecond // the backoffs within the second whose 429s the share counts
			fleet := &fleetEstimator{rate: 1e6, cutTo: 1e6, measured: true}
			pol.Limits.Limiter = fleet
			tr, srv, ft := setup(t, pol)
			for _, n := range tc.others {
				srv.Enqueue(llmretrytest.Step{Status: 429})
				for range n {
					srv.Enqueue(llmretrytest.Step{})
				}
			}
			srv.Enqueue(llmretrytest.Step{})

			tr.seams.sleep = backoffSleeps(ft, 10*time.Millisecond, func(n int) {
				for i := 0; n < len(tc.others) && i < tc.others[n]; i++ {
					resp, _, err := post(t, tr, srv.URL)
					if err != nil {
						t.Errorf("another request: %v", err)
						return
					}
					resp.Body.Close()
				}
			})
			resp, _, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200 (the fourth attempt)", resp.StatusCode)
			}
			if _, r := fleet.told(); r != tc.wantRefused {
				t.Errorf("the fleet's estimate cut %d times, want %d", r, tc.wantRefused)
			}
		})
	}
}

// backoffSleeps is a sleep seam for tests of a retry's wake: a wait shorter
// than pace is a turn at the pace, slept on ft; for each longer one (a
// backoff, counted from 0) it calls during(n), then ends the wait at once
// if it was woken (its context ended), else sleeps it on ft after 50 ms of
// real time (a wake, if any, comes at once).
func backoffSleeps(ft *fakeTime, pace time.Duration, during func(n int)) func(context.Context, time.Duration) error {
	var mu sync.Mutex
	backoffs := 0
	return func(ctx context.Context, d time.Duration) error {
		if d < pace {
			return ft.Sleep(ctx, d)
		}
		mu.Lock()
		n := backoffs
		backoffs++
		mu.Unlock()
		during(n)
		select {
		case <-ctx.Done(): // woken
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
			return ft.Sleep(ctx, d)
		}
	}
}
