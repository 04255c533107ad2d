package redislimit

import (
	"context"
	"testing"

	"github.com/llmretry/llmretry"
)

// BenchmarkLimiter measures one paced request's bookkeeping: in memory, and
// in Redis over loopback (one round trip), from parallel goroutines, with
// limits high enough that nobody waits.
//
//	go test -run '^$' -bench Limiter -benchmem -count 10 . | benchstat -col /impl -
func BenchmarkLimiter(b *testing.B) {
	lim := llmretry.Limit{RequestRate: 1e9, RequestBurst: 1 << 30, TokenRate: 1e12, TokenBurst: 1 << 30}
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
	b.Run("impl=redis", func(b *testing.B) {
		rs := startRedisB(b)
		l := New(rs.clientB(b), Options{FailClosed: true})
		run(b, l)
	})
}
