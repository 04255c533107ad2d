package llmretry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// attack12 (h/attack12): situations where ticket.again (542ace9) takes a
// 429 the pace caused for one the server gave the request for itself.

// A key paced over the server's rate: the server refuses the key's other
// attempts too (here two of every three, the refused request's and
// another's), not the request alone. That the server accepted one attempt
// sent after the request's 429 is no sign the request is refused for
// itself: a server refusing the excess of any pace over its rate accepts
// some attempts sent after every 429. Each of the request's 429s is the
// pace's, as much as the other request's, and the fleet's estimate must
// hear of it: redislimit measures the rate accepted between 429s as sends
// less the 429s it is told of (estimate.go, est_measure), so a refused
// retry it is not told of counts as accepted, and the cut stops short
// (bench shift, the rate falling to 0.2× for 4 s: 30–55% more 429s,
// docs/runs/2026-12-07-attack12.md).
func TestAttack12RetryRefusedAmongRefusedOthersTellsTheFleet(t *testing.T) {
	t.Parallel()
	pol := genericPolicy()
	pol.MaxRetries = 3
	fleet := &fleetEstimator{rate: 1000, cutTo: 1000, measured: true}
	pol.Limits.Limiter = fleet
	tr, srv, ft := setup(t, pol)
	// The request's three 429s; during each backoff, two other requests
	// (no retries): one accepted, one refused.
	for range 3 {
		srv.Enqueue(llmretrytest.Step{Status: 429}, llmretrytest.Step{}, llmretrytest.Step{Status: 429})
	}
	srv.Enqueue(llmretrytest.Step{})

	tr.seams.sleep = backoffSleeps(ft, 100*time.Millisecond, func(n int) {
		if n < 3 {
			if s := postOnce(t, tr, srv.URL); s != http.StatusOK {
				t.Errorf("backoff %d: the first other request got %d, want 200", n+1, s)
			}
			if s := postOnce(t, tr, srv.URL); s != http.StatusTooManyRequests {
				t.Errorf("backoff %d: the second other request got %d, want 429", n+1, s)
			}
		}
	})
	resp, _, err := post(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 (the fourth attempt)", resp.StatusCode)
	}
	// 6 429s of 9 attempts: the request's 3, the others' 3.
	if _, r := fleet.told(); r != 6 {
		t.Errorf("the fleet told of %d 429s, want 6: the server refused 2 of 3 of the key's attempts, the request's retries among them", r)
	}
}

// keyedFleet is a fleetEstimator that keeps the keys of the 429s it is told of.
type keyedFleet struct {
	fleetEstimator
	kmu  sync.Mutex
	keys []string
}

func (f *keyedFleet) Refused(ctx context.Context, key string) {
	f.kmu.Lock()
	f.keys = append(f.keys, key)
	f.kmu.Unlock()
	f.fleetEstimator.Refused(ctx, key)
}

func (f *keyedFleet) refusedKeys() []string {
	f.kmu.Lock()
	defer f.kmu.Unlock()
	return append([]string(nil), f.keys...)
}

// ticket.again is evidence about one key: the server of the key that
// refused the request accepted an attempt sent after the 429. A retry that
// a pool moves to another target (repick, after the wait) carries it
// there, and that target's first 429 for the request, which nothing
// explains, neither cuts the target's estimate nor is told to its fleet.
func TestAttack12AgainDoesNotFollowTheRetryToAnotherPoolTarget(t *testing.T) {
	tr, srvs, ft, pol := poolServers(t, 2)
	fleet := &keyedFleet{fleetEstimator: fleetEstimator{rate: 1000, cutTo: 1000, measured: true}}
	pol.Limits.Limiter = fleet
	pol.MaxRetries = 1
	srvs[0].Enqueue(llmretrytest.Step{Status: 429}, llmretrytest.Step{}) // the request's; the other request's
	srvs[1].Enqueue(llmretrytest.Step{Status: 429})                      // the request's retry
	tr.pool(pol).saw(1, Verdict{Class: ClassOverloaded}, ft.Now())       // cools t1 for coolBase

	attempts := attemptLog(tr)
	var once sync.Once
	tr.seams.sleep = func(ctx context.Context, d time.Duration) error {
		if d < 100*time.Millisecond { // a turn at the pace
			return ft.Sleep(ctx, d)
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			return ft.Sleep(ctx, d)
		}
		// The retry's wait for t1's cooldown: t0's server takes another
		// request meanwhile (t1 cools), and the cooldown passes.
		resp, _, err := post(t, tr, "http://caller.invalid")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("the other request: %v %v", err, resp)
		}
		ft.Sleep(context.Background(), d)
		select {
		case <-ctx.Done(): // woken by it
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
			return nil
		}
	}
	resp, _, err := post(t, tr, "http://caller.invalid")
	if err != nil {
		t.Fatal(err)
	}
	got := attempts()
	if resp.StatusCode != http.StatusTooManyRequests || len(got) != 3 || got[0] != "t0:429" || got[2] != "t1:429" {
		t.Fatalf("status %d, attempts %v: want t0:429, the other request's t0:200, then the retry's t1:429", resp.StatusCode, got)
	}
	if keys := fleet.refusedKeys(); len(keys) != 2 {
		t.Errorf("the fleet told of the 429s of %v, want both targets': t1's first 429 for the request is no retry of one t1 refused", keys)
	}
}

// As above, with a run of two: the request refused twice on t0, each time
// after t0 accepted another request, then moved to t1, whose server
// accepted nine requests over the last second. t1's 429 is the request's
// first there; a run counted on t0 (716a32f's refusedRun) must not make
// it the request's own on t1 (0.1² under ownChance).
func TestAttack12AgainRunDoesNotFollowTheRetryToAnotherPoolTarget(t *testing.T) {
	tr, srvs, ft, pol := poolServers(t, 2)
	fleet := &keyedFleet{fleetEstimator: fleetEstimator{rate: 1000, cutTo: 1000, measured: true}}
	pol.Limits.Limiter = fleet
	pol.MaxRetries = 2
	pl := tr.pool(pol)
	pl.saw(0, Verdict{Class: ClassOverloaded}, ft.Now()) // t0 cools: the warm-up goes to t1
	for range 9 {
		resp, _, err := post(t, tr, "http://caller.invalid")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("warm-up: %v %v", err, resp)
		}
	}
	ft.Sleep(context.Background(), coolBase)
	pl.saw(1, Verdict{Class: ClassOverloaded}, ft.Now()) // t1 cools for coolBase; t0 is ready
	srvs[0].Enqueue(llmretrytest.Step{Status: 429}, llmretrytest.Step{}, llmretrytest.Step{Status: 429}, llmretrytest.Step{})
	srvs[1].Enqueue(llmretrytest.Step{Status: 429})

	attempts := attemptLog(tr)
	var mu sync.Mutex
	waits := 0
	tr.seams.sleep = func(ctx context.Context, d time.Duration) error {
		if d < 100*time.Millisecond { // a turn at the pace
			return ft.Sleep(ctx, d)
		}
		mu.Lock()
		n := waits
		waits++
		mu.Unlock()
		if n >= 2 {
			return ft.Sleep(ctx, d)
		}
		// t0's server takes another request (t1 cools); after the second
		// wait, t1's cooldown is over.
		resp, _, err := post(t, tr, "http://caller.invalid")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("the other request: %v %v", err, resp)
		}
		if n == 1 {
			ft.Sleep(context.Background(), coolBase)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
			return nil
		}
	}
	resp, _, err := post(t, tr, "http://caller.invalid")
	if err != nil {
		t.Fatal(err)
	}
	got := attempts()
	if resp.StatusCode != http.StatusTooManyRequests || len(got) != 5 || got[4] != "t1:429" {
		t.Fatalf("status %d, attempts %v: want t0:429, t0:200, t0:429, t0:200, t1:429", resp.StatusCode, got)
	}
	keys := fleet.refusedKeys()
	t1 := 0
	for _, k := range keys {
		if strings.HasPrefix(k, "pool/t1:") {
			t1++
		}
	}
	if t1 != 1 {
		t.Errorf("the fleet told of the 429s of %v: want t1's, the request's first there", keys)
	}
}

// attemptLog records each attempt of tr as "target:status" (its Observer)
// and returns what it recorded so far.
func attemptLog(tr *Transport) func() []string {
	var mu sync.Mutex
	var got []string
	tr.Observer = onAttempt(func(a AttemptInfo) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s:%d", a.Target, a.Verdict.Status))
		mu.Unlock()
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}
