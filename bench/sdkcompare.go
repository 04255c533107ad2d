package main

import (
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// hashed reports whether attempt a of the request with body hash h falls in
// share percent, the same attempts for every client.
func hashed(h [32]byte, a, share int) bool {
	f := fnv.New32a()
	f.Write(h[:])
	f.Write([]byte{byte(a), byte(a >> 8)})
	return int(f.Sum32()%100) < share
}

// windowed answers at most perSecond requests in each second (a fixed
// window) and 429 with Retry-After: 1 to the others.
func windowed(perSecond int) func(*llmretrytest.Server) {
	return func(s *llmretrytest.Server) {
		var mu sync.Mutex
		var window time.Time
		var used int
		s.Respond(func(llmretrytest.Request) llmretrytest.Step {
			mu.Lock()
			defer mu.Unlock()
			if now := time.Now(); now.Sub(window) >= time.Second {
				window, used = now, 0
			}
			if used++; used > perSecond {
				return llmretrytest.Dialect("openai").RateLimit(1)
			}
			return llmretrytest.Step{}
		})
	}
}

// runSDKCompare: llmretry with zero config against the SDK's own retries
// (openai-go: 2 retries, exponential backoff, Retry-After honoured), in
// failures the other scenarios do not have. "Never worse than the SDK
// alone" is what is checked.
func runSDKCompare(cfg config, cs []client) {
	cfg.retries = 2
	scenarios := []struct {
		name     string
		n, w     int
		deadline time.Duration
		setup    func(*llmretrytest.Server)
	}{
		{"half of the attempts 500 without a hint", 400, 16, 30 * time.Second, func(s *llmretrytest.Server) {
			s.Respond(func(r llmretrytest.Request) llmretrytest.Step {
				if hashed(r.BodyHash, r.Attempt, 50) {
					return llmretrytest.Dialect("openai").ServerError()
				}
				return llmretrytest.Step{}
			})
		}},
		{"slow (2 s) and flaky (30% 500 after 2 s)", 96, 16, 30 * time.Second, func(s *llmretrytest.Server) {
			s.Respond(func(r llmretrytest.Request) llmretrytest.Step {
				st := llmretrytest.Step{}
				if hashed(r.BodyHash, r.Attempt, 30) {
					st = llmretrytest.Dialect("openai").ServerError()
				}
				st.Delay = 2 * time.Second
				return st
			})
		}},
		{"10 requests a second, 429 Retry-After: 1 beyond", 200, 32, 30 * time.Second, windowed(10)},
	}
	for _, sc := range scenarios {
		fmt.Printf("### Against the SDK alone: %s; %d requests, %d workers, %v deadline, 2 retries\n\n", sc.name, sc.n, sc.w, sc.deadline)
		fmt.Println("| client | succeeded | attempts per request | wall | p50 | p99 |")
		fmt.Println("|---|---|---|---|---|---|")
		c := cfg
		c.workers = sc.w
		var jobs []job
		for _, cl := range cs {
			jobs = append(jobs, job{c: cl, setup: sc.setup})
		}
		for k, r := range runAll(c, sc.n, sc.deadline, limits{}, jobs) {
			fmt.Printf("| %s | %d/%d | %.2f | %v | %v | %v |\n", cs[k].name, r.ok, sc.n, float64(len(r.log))/float64(sc.n),
				r.wall.Round(time.Millisecond), percentile(r.latencies, 50).Round(time.Millisecond), percentile(r.latencies, 99).Round(time.Millisecond))
		}
		fmt.Println()
	}
}
