package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// outageClients are the clients of the outage scenarios: llmretry as users
// run it, and with its budget off, next to the peers.
func outageClients() []client {
	return []client{learned, budgetOff, retryablehttpClient, failsafeClient, openaiClient}
}

// refusing answers every attempt at once with 503 or 529 (alternately, as an
// overloaded model behind an OpenAI-style gateway or Anthropic's API does),
// without a wait hint, until down has passed since setup (forever if down <
// 0); then it answers each in answer.
func refusing(down, answer time.Duration) func(*llmretrytest.Server) {
	return func(s *llmretrytest.Server) {
		start := time.Now()
		var n atomic.Int64
		s.Respond(func(llmretrytest.Request) llmretrytest.Step {
			if down < 0 || time.Since(start) < down {
				if n.Add(1)%2 == 0 {
					return llmretrytest.Dialect("anthropic").Overloaded(0) // 529
				}
				return llmretrytest.Dialect("openai").Overloaded(0) // 503
			}
			return llmretrytest.Step{Delay: answer}
		})
	}
}

// runOutage: one model refuses everything for 5 s, then answers (500 ms
// each); every client with its default of 2 retries and no fallback. A
// budget that protects the server must not turn the blip into failures.
func runOutage(cfg config, cs []client) {
	const n, workers, down, answer, deadline = 200, 16, 5 * time.Second, 500 * time.Millisecond, 30 * time.Second
	fmt.Printf("### Short outage: every attempt refused at once (503 and 529, no hint) for %v, then 500 ms answers; %d requests, %d workers, %v deadline, 2 retries (the SDKs' default), no fallback\n\n",
		down, n, workers, deadline)
	fmt.Println("| client | succeeded | attempts per request | attempts in the outage | wall | p50 | p99 |")
	fmt.Println("|---|---|---|---|---|---|---|")
	cfg.workers, cfg.retries = workers, 2
	var jobs []job
	for _, c := range cs {
		jobs = append(jobs, job{c: c, setup: refusing(down, answer)})
	}
	for k, r := range runAll(cfg, n, deadline, limits{}, jobs) {
		fmt.Printf("| %s | %d/%d | %.2f | %d | %v | %v | %v |\n", cs[k].name, r.ok, n, float64(len(r.log))/n,
			len(r.log)-r.status(http.StatusOK), r.wall.Round(time.Millisecond),
			percentile(r.latencies, 50).Round(time.Millisecond), percentile(r.latencies, 99).Round(time.Millisecond))
	}
	fmt.Println()
}

// runTotalOutage: the model never answers; the load each client puts on it.
func runTotalOutage(cfg config, cs []client) {
	const n, workers, deadline = 100, 16, 30 * time.Second
	fmt.Printf("### Total outage: every attempt refused at once (503 and 529, no hint); %d requests, %d workers, %v deadline, 2 retries\n\n", n, workers, deadline)
	fmt.Println("| client | attempts per request | most attempts in one second after the first | wall | p50 (time to fail) |")
	fmt.Println("|---|---|---|---|---|")
	cfg.workers, cfg.retries = workers, 2
	var jobs []job
	for _, c := range cs {
		jobs = append(jobs, job{c: c, setup: refusing(-1, 0)})
	}
	for k, r := range runAll(cfg, n, deadline, limits{}, jobs) {
		fmt.Printf("| %s | %.2f | %d | %v | %v |\n", cs[k].name, float64(len(r.log))/n, r.peak(time.Second),
			r.wall.Round(time.Millisecond), percentile(r.latencies, 50).Round(time.Millisecond))
	}
	fmt.Println()
}
