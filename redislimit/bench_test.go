package redislimit

import (
	"context"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
)

// BenchmarkLimiter measures one paced request's bookkeeping: in memory, and
// in Redis over loopback (one round trip), from parallel goroutines, with
// limits high enough that nobody waits.
//
//	go test -run '^$' -bench Limiter -benchmem -count 10 . | benchstat -col /impl -
func BenchmarkLimiter(b *testing.B) {
	lim := llmretry.Pace{RequestRate: 1e9, RequestBurst: 1 << 30, TokenRate: 1e12, TokenBurst: 1 << 30}
	ctx := context.Background()
	run := func(b *testing.B, l llmretry.Limiter) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Wait(ctx, "bench", lim, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("impl=memory", func(b *testing.B) { run(b, &llmretry.MemoryLimiter{}) })
	// Zero config, before any 429: the reservation counts the send for
	// the fleet's estimate (estimate.go) and paces nothing; the answer is
	// counted in memory, for the next reservation to carry.
	b.Run("impl=redis-learned", func(b *testing.B) {
		rs := startRedisB(b)
		l := New(rs.clientB(b), Options{FailClosed: true})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Wait(ctx, "bench", llmretry.Pace{Learned: true}, 1); err != nil {
					b.Fatal(err)
				}
				l.Accepted("bench")
			}
		})
	})
	b.Run("impl=redis", func(b *testing.B) {
		rs := startRedisB(b)
		l := New(rs.clientB(b), Options{FailClosed: true})
		run(b, l)
	})
	// A client that ends its calls at their deadline needs no goroutine a
	// call to keep Options.Timeout.
	b.Run("impl=redis-ctxtimeout", func(b *testing.B) {
		rs := startRedisB(b)
		rdb := redis.NewClient(&redis.Options{Addr: rs.addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
		b.Cleanup(func() { rdb.Close() })
		run(b, New(rdb, Options{FailClosed: true}))
	})
}

// BenchmarkSharedLimit runs the fleet of TestSharedLimitAcrossClients (4
// clients sharing 40/s, burst 4, 440 requests, about 11 s an iteration) and
// reports how close to the limit it ran and how many 429s it met, figures
// that depend on scheduling and so are no test's assertion:
//
//	go test -run '^$' -bench SharedLimit -benchtime 1x -count 5 .
func BenchmarkSharedLimit(b *testing.B) {
	rs := startRedisB(b)
	f := fleetOf4
	var rate, limited, failed float64
	for i := 0; i < b.N; i++ {
		r := f.run(b, rs, llmretry.Provider("generic").MaxRetries)
		rate += r.rate(f.burst) / f.perSecond
		limited += float64(r.limited)
		failed += float64(r.failed)
	}
	n := float64(b.N)
	b.ReportMetric(rate/n, "rate/limit")
	b.ReportMetric(limited/n, "429s/run")
	b.ReportMetric(failed/n, "failed/run")
}
