package llmretry

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// simClock is virtual time for concurrent callers: a Sleep blocks until
// every caller is asleep, then time jumps to the earliest wake-up and that
// sleeper goes on. A caller is asleep only in Sleep, so time stands still
// while any caller sends an attempt.
type simClock struct {
	mu       sync.Mutex // guards the fields below
	now      time.Time
	running  int // callers not asleep
	sleepers []*simSleeper
}

type simSleeper struct {
	at   time.Time
	wake chan struct{}
}

func newSimClock() *simClock { return &simClock{now: time.Now()} }

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Go runs f as a caller.
func (c *simClock) Go(wg *sync.WaitGroup, f func()) {
	c.mu.Lock()
	c.running++
	c.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			c.mu.Lock()
			c.running--
			c.advance()
			c.mu.Unlock()
		}()
		f()
	}()
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	s := &simSleeper{wake: make(chan struct{})}
	c.mu.Lock()
	s.at = c.now.Add(d)
	c.sleepers = append(c.sleepers, s)
	c.running--
	c.advance()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.sleepers, s); i >= 0 { // not woken by advance
			c.sleepers = slices.Delete(c.sleepers, i, i+1)
			c.running++
		}
		return ctx.Err()
	}
}

// advance wakes the earliest sleeper once no caller runs.
func (c *simClock) advance() {
	if c.running > 0 || len(c.sleepers) == 0 {
		return
	}
	i := 0
	for j, s := range c.sleepers {
		if s.at.Before(c.sleepers[i].at) {
			i = j
		}
	}
	s := c.sleepers[i]
	c.sleepers = slices.Delete(c.sleepers, i, i+1)
	if s.at.After(c.now) {
		c.now = s.at
	}
	c.running++
	close(s.wake)
}

// outageRun is a run of n requests by workers callers on virtual time
// against a model that refuses every attempt at once (503 or 529, no hint)
// until down has passed (forever if down < 0), each request under a
// deadline of deadline.
type outageRun struct {
	ok, attempts, attemptsDown int
	decisions                  map[Decision]int
	refused                    int           // requests the budget answered within a second
	took                       time.Duration // virtual
}

// outageStartKey holds, in a request's context, when it began.
type outageStartKey struct{}

func runOutage(t *testing.T, pol *Policy, n, workers int, down, deadline time.Duration) outageRun {
	t.Helper()
	tr, srv, _ := setup(t, pol)
	clk := newSimClock()
	tr.now, tr.sleep = clk.Now, clk.Sleep
	t0 := clk.Now()
	end := t0.Add(down)
	var seq atomic.Int64
	var mu sync.Mutex
	run := outageRun{decisions: map[Decision]int{}}
	srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
		mu.Lock()
		defer mu.Unlock()
		run.attempts++
		if down < 0 || clk.Now().Before(end) {
			run.attemptsDown++
			if seq.Add(1)%2 == 0 {
				return llmretrytest.Dialect("anthropic").Overloaded(0)
			}
			return llmretrytest.Dialect("openai").Overloaded(0)
		}
		return llmretrytest.Step{}
	})
	tr.Observer = onAttempt(func(a AttemptInfo) {
		mu.Lock()
		run.decisions[a.Decision]++
		if start, _ := a.Context.Value(outageStartKey{}).(time.Time); a.Decision == DecisionBudgetExhausted && clk.Now().Sub(start) < time.Second {
			run.refused++
		}
		mu.Unlock()
	})
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		clk.Go(&wg, func() {
			for int(next.Add(1)) <= n {
				ctx := context.WithValue(context.Background(), outageStartKey{}, clk.Now())
				ctx, cancel := context.WithDeadline(ctx, clk.Now().Add(deadline))
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
				if resp, err := tr.RoundTrip(req); err == nil {
					if resp.StatusCode == 200 {
						ok.Add(1)
					}
					discard(resp)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	run.ok, run.took = int(ok.Load()), clk.Now().Sub(t0)
	return run
}

// TestRetryBudgetShortOutage is issue 20's short outage on virtual time: a
// model refuses everything at once for a while, 16 callers, 200 requests,
// 2 retries, 30 s deadlines. The budget once refused every retry after its
// reserve, and the callers drained the queue with failures (0 of 200
// succeeded in a 5 s outage); a retry it cannot pay for now waits for a
// probe to find the model back. A request fails only if both its retries
// were made in the outage: paid ones (the reserve of 10 and a tenth of the
// attempts) or probes (one at a time, further and further apart).
func TestRetryBudgetShortOutage(t *testing.T) {
	t.Parallel()
	for _, down := range []time.Duration{5 * time.Second, 20 * time.Second} {
		t.Run(down.String(), func(t *testing.T) {
			t.Parallel()
			r := runOutage(t, &Policy{}, 200, 16, down, 30*time.Second)
			t.Logf("%v outage: %d/200 succeeded, %d attempts (%d in the outage), decisions %v", down, r.ok, r.attempts, r.attemptsDown, r.decisions)
			if r.ok < 185 {
				t.Errorf("%d/200 succeeded in a %v outage with 30 s deadlines, want ≥ 185: retries the budget cannot pay for must wait, not fail", r.ok, down)
			}
			if limit := 16 + 2*16; r.attemptsDown > limit {
				t.Errorf("%d attempts in the outage, want ≤ %d: the callers' first attempts and their retries, once", r.attemptsDown, limit)
			}
		})
	}
}

// TestRetryBudgetTotalOutage: the same model never answers. Retries that
// wait send nothing, so the load is the callers' first attempts, the
// budget's share (the reserve and a tenth of the attempts) and the probes,
// at most one every 22.5 s (30 s, jittered) after the first few: at most
// 1.3 attempts a request with deadlines up to 30 s. With longer deadlines
// requests wait longer and the bound is in time. While the deadline allows
// a probe, retries wait rather than being refused (the budget once refused
// all but its reserve at once).
func TestRetryBudgetTotalOutage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		deadline time.Duration
		refused  int // the most requests refused a retry at once
		perReq   bool
	}{
		{5 * time.Second, 100, true}, // probes soon further apart than the deadline: refused at once, as before
		{30 * time.Second, 16, true},
		{time.Hour, 16, false},
	} {
		t.Run(tc.deadline.String(), func(t *testing.T) {
			t.Parallel()
			r := runOutage(t, &Policy{}, 100, 16, -1, tc.deadline)
			t.Logf("total outage, %v deadline: %.2f attempts a request over %v, decisions %v, %d refused at once", tc.deadline, float64(r.attempts)/100, r.took.Round(time.Second), r.decisions, r.refused)
			// Probes: 0, 0.375 s, 1.1 s, 2.6 s, 5.6 s, 11.6 s, 23.6 s, then every 22.5 s.
			probes := 7 + int(r.took/(22500*time.Millisecond))
			share := defaultReserve + defaultPerAttempt*float64(r.attempts)
			if limit := 100 + int(share) + probes; r.ok != 0 || r.attempts > limit {
				t.Errorf("%d attempts for 100 requests (%d succeeded), want ≤ %d: first attempts, the budget's share and the probes", r.attempts, r.ok, limit)
			}
			if tc.perReq && r.attempts > 130 {
				t.Errorf("%d attempts for 100 requests, want ≤ 130", r.attempts)
			}
			if r.refused > tc.refused {
				t.Errorf("%d requests refused a retry at once by the budget, want ≤ %d: while the deadline allows, they wait", r.refused, tc.refused)
			}
		})
	}
}
