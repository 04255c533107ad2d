package redislimit

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// busyScript holds Redis for ARGV[1] ms: a slow Redis, on any version
// (DEBUG SLEEP is disabled by default since Redis 7).
var busyScript = redis.NewScript(`
local function now() local t = redis.call('TIME') return t[1] * 1000 + t[2] / 1000 end
local stop = now() + tonumber(ARGV[1])
while now() < stop do end
return 1
`)

// silentRedis is a TCP listener that accepts connections and never answers.
func silentRedis(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// No request waits on Redis longer than Options.Timeout, with a client that
// ignores context deadlines (go-redis without ContextTimeoutEnabled, as in
// the package's example), against a slow Redis and a silent one (issue 21,
// item 9). Each falls back to local buckets and leaks no goroutine.
func TestTimeoutWhateverTheClient(t *testing.T) {
	const timeout = 100 * time.Millisecond
	// Well under the 3 s the slow Redis holds a call, and the 10 s the
	// client would wait for the silent one.
	const bound = 1500 * time.Millisecond
	slow := func(heeds bool) func(t *testing.T) *redis.Client {
		return func(t *testing.T) *redis.Client {
			rs := startRedis(t)
			rdb := redis.NewClient(&redis.Options{Addr: rs.addr(), ReadTimeout: 10 * time.Second, ContextTimeoutEnabled: heeds})
			t.Cleanup(func() { rdb.Close() })
			rdb.Ping(context.Background()) // connected, so the script finds it busy
			busy := redis.NewClient(&redis.Options{Addr: rs.addr(), ReadTimeout: 10 * time.Second})
			started := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				close(started)
				busyScript.Run(context.Background(), busy, nil, 3000)
			}()
			t.Cleanup(func() { <-done; busy.Close() })
			<-started
			time.Sleep(50 * time.Millisecond) // the script is running
			return rdb
		}
	}
	silent := func(heeds bool) func(t *testing.T) *redis.Client {
		return func(t *testing.T) *redis.Client {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			rdb := redis.NewClient(&redis.Options{Addr: silentRedis(t), ReadTimeout: 10 * time.Second, MaxRetries: -1,
				ContextTimeoutEnabled: heeds})
			t.Cleanup(func() { rdb.Close() })
			return rdb
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) *redis.Client
	}{
		{"slow", slow(false)},
		{"silent", silent(false)},
		{"slow, client heeds deadlines", slow(true)},
		{"silent, client heeds deadlines", silent(true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb := tt.setup(t)
			var errs atomic.Int32
			l := New(rdb, Options{Timeout: timeout, RetryAfter: time.Nanosecond, OnError: func(error) { errs.Add(1) }})
			lim := llmretry.Pace{RequestRate: 100, RequestBurst: 10}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			if err := l.Wait(ctx, "k", lim, 1); err != nil {
				t.Errorf("Wait = %v, want the fallback's nil", err)
			}
			if err := l.Pause(ctx, "k", time.Now().Add(10*time.Millisecond)); err != nil {
				t.Errorf("Pause = %v", err)
			}
			if d := time.Since(start); d > bound {
				t.Errorf("Wait and Pause took %v; Options.Timeout is %v", d, timeout)
			}
			if errs.Load() < 2 {
				t.Errorf("OnError was told %d times, want 2 (Wait and Pause)", errs.Load())
			}
		})
	}
}
