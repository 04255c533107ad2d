package redislimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
)

// probe is the wait Redis would give one more request on key now, without
// reserving it.
func probe(t *testing.T, l *Limiter, key string, lim llmretry.Pace, tokens int) time.Duration {
	t.Helper()
	res, err := reserveScript.Run(context.Background(), l.rdb, l.keys(key), 0,
		micros(float64(lim.RequestRate)), max(lim.RequestBurst, 1), micros(float64(lim.TokenRate)), max(lim.TokenBurst, 1), tokens).Slice()
	if err != nil {
		t.Fatal(err)
	}
	ok, d, _, err := parseReply(res)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		return 0
	}
	return d
}

// Waiters that give up, in any order, give their reservations back: the
// key is not stalled, fleet wide, for the time they held (issue 21, item 8).
func TestCancelledWaitersInAnyOrder(t *testing.T) {
	rs := startRedis(t)
	l := New(rs.client(t), Options{})
	lim := llmretry.Pace{RequestRate: 0.99, RequestBurst: 1}          // 60/min, burst 1, with headroom
	if err := l.Wait(context.Background(), "k", lim, 1); err != nil { // takes the burst
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	cancels := make([]context.CancelFunc, n)
	for i := range n {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Wait(ctx, "k", lim, 1); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); probe(t, l, "k", lim, 1) < 29*time.Second; {
		if time.Now().After(deadline) {
			t.Fatal("the waiters did not queue")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, cancel := range cancels { // first come, first to give up
		cancel()
	}
	wg.Wait()
	// The burst was taken at most a second ago: the next slot is within
	// about a second, not after the 30 given up.
	if d := probe(t, l, "k", lim, 1); d > 1100*time.Millisecond {
		t.Errorf("after the waiters gave up, a request waits %v, want ≤ 1.01s", d)
	}
}

// A configured token rate holds in Redis whatever the requests cost (issue
// 21, item 11): 25-token requests at 60 tokens a minute with a bucket of 1
// are charged 25 each.
func TestTokenCostOverBurstChargedInFull(t *testing.T) {
	rs := startRedis(t)
	l := New(rs.client(t), Options{})
	limit := llmretry.Pace{TokenRate: 10, TokenBurst: 1}                   // what lim means, without headroom
	if err := l.Wait(context.Background(), "tok", limit, 25); err != nil { // goes at once: the bucket is full
		t.Fatal(err)
	}
	// 24 tokens of debt and a full bucket: 2.5 s at 10/s.
	if d := probe(t, l, "tok", limit, 25); d < 2400*time.Millisecond || d > 2500*time.Millisecond {
		t.Errorf("the next 25-token request waits %v, want 2.5s (the first charged 25, not 1)", d)
	}
}
