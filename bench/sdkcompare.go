package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

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
		share    int           // of the attempts answered 500 (failsDraw) after delay, when setup is nil
		delay    time.Duration // of every answer, when setup is nil
		setup    func(*llmretrytest.Server)
	}{
		{"half of the attempts 500 without a hint", 400, 16, 30 * time.Second, 50, 0, nil},
		{"slow (2 s) and flaky (30% 500 after 2 s)", 96, 16, 30 * time.Second, 30, 2 * time.Second, nil},
		{"10 requests a second, 429 Retry-After: 1 beyond", 200, 32, 30 * time.Second, 0, 0, windowed(10)},
		{"10% of attempts 429 retry-after-ms: 1000 at random, room to spare, 50 ms answers", 400, 16, 30 * time.Second, 0, 0, sporadic429(10, "1000", 50*time.Millisecond)},
	}
	for _, sc := range scenarios {
		fmt.Printf("### Against the SDK alone: %s; %d requests, %d workers, %v deadline, 2 retries\n\n", sc.name, sc.n, sc.w, sc.deadline)
		setup := sc.setup
		if setup == nil {
			setup = func(s *llmretrytest.Server) {
				s.Respond(failing(sc.share, sc.delay, llmretrytest.Dialect("openai").ServerError))
			}
			ok, per := drawnIdeal(sc.n, sc.share, cfg.retries)
			fmt.Printf("With these draws (the same for every client), a client that retries every failed attempt twice succeeds on %d/%d, with %.2f attempts per request.\n\n", ok, sc.n, per)
		}
		fmt.Println("| client | succeeded | attempts per request | wall | p50 | p99 |")
		fmt.Println("|---|---|---|---|---|---|")
		c := cfg
		c.workers = sc.w
		var jobs []job
		for _, cl := range cs {
			jobs = append(jobs, job{c: cl, setup: setup})
		}
		for k, r := range runAll(c, sc.n, sc.deadline, limits{}, jobs) {
			fmt.Printf("| %s | %d/%d | %.2f | %v | %v | %v |\n", cs[k].name, r.ok, sc.n, float64(len(r.log))/float64(sc.n),
				r.wall.Round(time.Millisecond), percentile(r.latencies, 50).Round(time.Millisecond), percentile(r.latencies, 99).Round(time.Millisecond))
		}
		fmt.Println()
	}
}
