package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/redislimit"
	"github.com/redis/go-redis/v9"
)

// The fleet's clients on a shared redislimit.Limiter: every process of a
// cell keeps its buckets and pauses in one Redis, under a prefix of the
// cell's own (config.redisPrefix), so that no cell inherits another's state.
// The parent starts redis-server on a free loopback port unless -redis
// names one.
var (
	redisConfigured = client{"llmretry + redislimit, configured", true, redisClient(true)}
	redisLearned    = client{"llmretry + redislimit, learned", true, redisClient(false)}
)

// redisClients are the fleet scenarios' clients on Redis.
var redisClients = []client{redisConfigured, redisLearned}

// redisClient is llmretry on a redislimit.Limiter: configured with the
// server's whole rate and burst (the key's limit, shared by the fleet), or
// with no limit at all (zero config, learned).
func redisClient(configure bool) func(config, limits, string) func(context.Context, int) bool {
	return httpClient(func(cfg config, _ limits) http.RoundTripper {
		rdb := redis.NewClient(&redis.Options{Addr: cfg.redisAddr})
		p := &llmretry.Policy{}
		if configure {
			p.Limits = llmretry.Limits{RequestsPerMinute: cfg.rate * 60, RequestBurst: cfg.burst}
		}
		p.Limits.Limiter = redislimit.New(rdb, redislimit.Options{Prefix: cfg.redisPrefix})
		return &llmretry.Transport{Base: newBase(), Observer: cfg.trace.observer(), Policy: p}
	}, withRetries)
}

// needsRedis reports whether any of cs keeps its state in Redis.
func needsRedis(cs []client) bool {
	for _, c := range cs {
		for _, r := range redisClients {
			if c.name == r.name {
				return true
			}
		}
	}
	return false
}

// redisCells numbers the cells run on Redis, for their prefixes.
var redisCells atomic.Int64

// cellPrefix is a fresh Redis key prefix for one cell.
func cellPrefix() string {
	return fmt.Sprintf("llmretry-bench:%d:%d:", time.Now().UnixNano(), redisCells.Add(1))
}

// startRedis returns the address of a Redis for the fleet's Redis clients:
// addr if it is given, else a redis-server started on a free loopback port
// (stop ends it).
func startRedis(addr string) (string, func(), error) {
	if addr != "" {
		return addr, func() {}, nil
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return "", nil, fmt.Errorf("redis-server not found (install it, or name a Redis with -redis): %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	addr = "127.0.0.1:" + strconv.Itoa(port)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for i := 0; i < 200; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return addr, stop, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("redis-server on %s did not answer", addr)
}
