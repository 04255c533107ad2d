package llmretry

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestBucketsReserve(t *testing.T) {
	t.Parallel()
	t0 := testNow
	lim := Limit{RequestRate: 10, RequestBurst: 2}
	b := &buckets{req: rate.NewLimiter(rate.Inf, 1), tok: rate.NewLimiter(rate.Inf, 1)}
	var got []time.Duration
	for i := 0; i < 4; i++ {
		d, _, _ := b.reserve(t0, lim, 1, math.MaxInt64)
		got = append(got, d)
	}
	if want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("delays = %v, want %v", got, want)
	}
}

func TestBucketsCostOverBurstWaitsForFullBucket(t *testing.T) {
	t.Parallel()
	t0 := testNow
	lim := Limit{TokenRate: 100, TokenBurst: 1000}
	b := &buckets{req: rate.NewLimiter(rate.Inf, 1), tok: rate.NewLimiter(rate.Inf, 1)}
	if d, _, _ := b.reserve(t0, lim, 5000, math.MaxInt64); d != 0 {
		t.Fatalf("first request over the burst waits %v, want 0 (the bucket is full)", d)
	}
	if d, _, _ := b.reserve(t0, lim, 5000, math.MaxInt64); d != 10*time.Second {
		t.Errorf("second waits %v, want 10s: the time to refill the whole 1000-token bucket, no deadlock", d)
	}
}

func TestBucketsPauseReleasesAtPacedRate(t *testing.T) {
	t.Parallel()
	t0 := testNow
	lim := Limit{RequestRate: 10, RequestBurst: 5}
	b := &buckets{req: rate.NewLimiter(rate.Inf, 1), tok: rate.NewLimiter(rate.Inf, 1)}
	b.reserve(t0, lim, 1, math.MaxInt64) // set the limit; 4 tokens left
	b.pause(t0, t0.Add(200*time.Millisecond))
	if d, took, _ := b.reserve(t0.Add(50*time.Millisecond), lim, 1, math.MaxInt64); d != 150*time.Millisecond || took {
		t.Errorf("during the pause: wait %v, want the 150ms left and no reservation", d)
	}
	// The bucket was emptied at t0 and refilled 2 tokens in 200ms: two go at
	// the end of the pause, then one every 100ms — not the whole herd.
	end := t0.Add(200 * time.Millisecond)
	var got []time.Duration
	for i := 0; i < 4; i++ {
		d, _, _ := b.reserve(end, lim, 1, math.MaxInt64)
		got = append(got, d)
	}
	if want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("after the pause: delays %v, want %v", got, want)
	}
}

func TestMemoryLimiterDeadline(t *testing.T) {
	t.Parallel()
	var m MemoryLimiter
	lim := Limit{RequestRate: 1, RequestBurst: 1}
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
	if d, _, _ := m.get("k").reserve(time.Now(), lim, 1, math.MaxInt64); d > 1100*time.Millisecond {
		t.Errorf("next wait %v: the abandoned reservation was not given back", d)
	}
}

func TestMemoryLimiterCancelGivesBack(t *testing.T) {
	t.Parallel()
	var m MemoryLimiter
	lim := Limit{RequestRate: 2, RequestBurst: 1}
	m.Wait(context.Background(), "k", lim, 1) // take the burst
	ctx, cancel := context.WithCancel(context.Background())
	m.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	if err := m.Wait(ctx, "k", lim, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d, _, _ := m.get("k").reserve(time.Now(), lim, 1, math.MaxInt64); d > 510*time.Millisecond {
		t.Errorf("next wait %v, want ≤ 500ms: a cancelled wait must give its reservation back", d)
	}
}
