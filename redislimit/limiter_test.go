package redislimit

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// fleet is 4 independent clients — each its own Transport, pacer and Redis
// connection, as 4 processes would have — sharing a limit of 40/s with burst
// 4 in Redis, for one API key whose limit the fake provider enforces.
type fleet struct {
	perSecond      float64
	burst, clients int
	workers        int // per client
	requests       int // in all
}

var fleetOf4 = fleet{perSecond: 40, burst: 4, clients: 4, workers: 8, requests: 440} // > 10 s of real time

// fleetRun is what one run of a fleet did.
type fleetRun struct {
	elapsed  time.Duration
	arrivals []llmretrytest.Request // every attempt the provider received
	failed   int                    // requests that did not end in a 200
	limited  int                    // 429s the provider answered
}

// rate is the aggregate arrival rate after the initial burst: attempts over
// the time from the first arrival to the last.
func (r fleetRun) rate(burst int) float64 {
	span := r.arrivals[len(r.arrivals)-1].Time.Sub(r.arrivals[0].Time).Seconds()
	return float64(len(r.arrivals)-burst) / span
}

func (f fleet) run(tb testing.TB, rs *redisServer, maxRetries int) fleetRun {
	srv := llmretrytest.Start(tb)
	srv.SetLimit(llmretrytest.Style("openai").Spec(llmretrytest.Requests, f.perSecond, f.burst))
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < f.clients; c++ {
		pol := llmretry.Provider("generic")
		pol.MaxRetries = maxRetries
		// A generous timeout: this is a test of sharing, and a call held
		// past the default 250 ms on a loaded machine would fall back to
		// unshared buckets (which TestRedisOutage tests).
		lim := New(rs.clientB(tb), Options{Timeout: 5 * time.Second, OnError: func(err error) { tb.Log("redis:", err) }})
		pol.Limits = llmretry.Limits{RequestsPerMinute: f.perSecond * 60, RequestBurst: f.burst, Limiter: lim}
		base := &http.Transport{}
		tb.Cleanup(base.CloseIdleConnections)
		client := &http.Client{Transport: &llmretry.Transport{Base: base, Policy: pol}}
		for w := 0; w < f.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(f.requests) {
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
					req.Header.Set("Authorization", "Bearer sk-shared-by-the-fleet")
					resp, err := client.Do(req)
					if err != nil || resp.StatusCode != 200 {
						failed.Add(1)
					}
					if err == nil {
						resp.Body.Close()
					}
				}
			}()
		}
	}
	wg.Wait()
	r := fleetRun{elapsed: time.Since(start), arrivals: srv.Requests(), failed: int(failed.Load())}
	for _, a := range r.arrivals {
		if a.Status == http.StatusTooManyRequests {
			r.limited++
		}
	}
	return r
}

// TestSharedLimitAcrossClients: the fleet as a whole stays within the shared
// limit. What always holds is asserted: every attempt is granted by the Redis
// bucket (GCRA on Redis's clock, which is this machine's) at a time inside
// the run, so the provider receives at most burst + rate × run time attempts,
// whatever the scheduling; 4 unshared buckets would send 4 times that. And
// every request succeeds: an attempt that arrives early after a scheduling
// hiccup and meets a 429 is retried after the provider's hint (the retry
// count is generous so that no run of bad luck can fail a request). How close
// the fleet runs to the limit and how many 429s it meets depend on timing:
// BenchmarkSharedLimit measures them.
func TestSharedLimitAcrossClients(t *testing.T) {
	rs := startRedis(t)
	f := fleetOf4
	r := f.run(t, rs, 20)
	bound := float64(f.burst) + f.perSecond*r.elapsed.Seconds()
	t.Logf("%d clients, %d requests in %v: %d attempts (bound %.0f), aggregate %.2f/s for a limit of %g/s, %d 429s",
		f.clients, f.requests, r.elapsed.Round(time.Millisecond), len(r.arrivals), bound, r.rate(f.burst), f.perSecond, r.limited)
	if r.failed != 0 {
		t.Errorf("%d of %d requests failed, want none", r.failed, f.requests)
	}
	if len(r.arrivals) < f.requests {
		t.Errorf("the provider received %d attempts for %d requests", len(r.arrivals), f.requests)
	}
	if float64(len(r.arrivals)) > bound {
		t.Errorf("the provider received %d attempts in %v; a shared limit of %g/s, burst %d allows at most %.0f",
			len(r.arrivals), r.elapsed, f.perSecond, f.burst, bound)
	}
}

// TestSharedPause: a 429 seen by one process pauses all of them.
func TestSharedPause(t *testing.T) {
	rs := startRedis(t)
	a, b := New(rs.client(t), Options{}), New(rs.client(t), Options{})
	ctx := context.Background()
	lim := llmretry.Pace{RequestRate: 1000, RequestBurst: 10}
	if err := a.Pause(ctx, "k", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	res, err := reserveScript.Run(ctx, rs.client(t), b.keys("k"), -1, micros(1000), 10, 0, 1, 1).Slice()
	if err != nil {
		t.Fatal(err)
	}
	ok, delay, _, err := parseReply(res)
	if err != nil || !ok || delay < 250*time.Millisecond || delay > 300*time.Millisecond {
		t.Errorf("another process's reservation: ok %v, delay %v (%v); want about 300ms", ok, delay, err)
	}
	// A deadline shorter than the pause fails at once with ErrDeadline.
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.Wait(dctx, "k", lim, 1); !errors.Is(err, llmretry.ErrDeadline) {
		t.Errorf("err = %v, want ErrDeadline", err)
	}
}

// TestReservationArithmetic checks the script against x/time/rate's
// arithmetic: burst at once, then one interval each, tokens capped at burst.
func TestReservationArithmetic(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	l := New(rdb, Options{})
	ctx := context.Background()
	var delays []time.Duration
	for i := 0; i < 5; i++ {
		res, err := reserveScript.Run(ctx, rdb, l.keys("arith"), -1, micros(10), 2, 0, 1, 1).Slice()
		if err != nil {
			t.Fatal(err)
		}
		_, d, _, _ := parseReply(res)
		delays = append(delays, d)
	}
	// 10/s, burst 2: 0, 0, then 100ms, 200ms, 300ms (less the few µs between calls).
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	for i := range want {
		if diff := want[i] - delays[i]; diff < 0 || diff > 20*time.Millisecond {
			t.Errorf("delays = %v, want %v", delays, want)
			break
		}
	}
	// Tokens: a cost over the burst goes when the bucket is full, and is
	// charged in full: the next waits out the debt and a full bucket.
	var got []time.Duration
	for i := 0; i < 2; i++ {
		res, _ := reserveScript.Run(ctx, rdb, l.keys("tok"), -1, 0, 1, micros(1000), 100, 5000).Slice()
		_, d, _, _ := parseReply(res)
		got = append(got, d)
	}
	if got[0] != 0 || got[1] < 4990*time.Millisecond || got[1] > 5000*time.Millisecond {
		t.Errorf("token delays %v, want [0 ~5s]: a 5000-token request is charged 5000 tokens at 1000/s", got)
	}
}

// TestRedisOutage: Redis killed mid-run and restarted. With the default
// fallback no request is lost or stuck; fail-closed requests fail fast with
// ErrUnavailable; both use Redis again once it is back.
func TestRedisOutage(t *testing.T) {
	for _, failClosed := range []bool{false, true} {
		name := "fallback to local buckets"
		if failClosed {
			name = "fail closed"
		}
		t.Run(name, func(t *testing.T) {
			rs := startRedis(t)
			var redisErrors atomic.Int64
			l := New(rs.client(t), Options{FailClosed: failClosed, RetryAfter: 50 * time.Millisecond,
				OnError: func(error) { redisErrors.Add(1) }})
			lim := llmretry.Pace{RequestRate: 200, RequestBurst: 5}
			wait := func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				return l.Wait(ctx, "outage", lim, 1)
			}
			for i := 0; i < 20; i++ {
				if err := wait(); err != nil {
					t.Fatalf("before the outage: %v", err)
				}
			}
			rs.stop()
			var during []error
			for i := 0; i < 20; i++ {
				during = append(during, wait())
			}
			for _, err := range during {
				switch {
				case failClosed && !errors.Is(err, ErrUnavailable):
					t.Fatalf("fail closed during the outage: err = %v, want ErrUnavailable", err)
				case !failClosed && err != nil:
					t.Fatalf("fallback during the outage: err = %v, want none", err)
				}
			}
			if redisErrors.Load() == 0 {
				t.Error("OnError was not told of the outage")
			}
			rs.start()
			time.Sleep(60 * time.Millisecond) // past RetryAfter
			deadline := time.Now().Add(5 * time.Second)
			for keyCount(t, rs) == 0 && time.Now().Before(deadline) {
				if err := wait(); err != nil && !errors.Is(err, ErrUnavailable) {
					t.Fatalf("after the restart: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if keyCount(t, rs) == 0 {
				t.Error("the limiter did not go back to Redis after it restarted")
			}
			if err := wait(); err != nil {
				t.Errorf("after the restart: %v", err)
			}
		})
	}
}
