package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// budgetOff is llmretry with its retry budget turned off, the reference for
// what the budget costs when failures are scattered.
var budgetOff = client{"llmretry, budget off", true, httpClient(func(config, limits) http.RoundTripper {
	return &llmretry.Transport{Base: newBase(), Policy: &llmretry.Policy{Budget: llmretry.RetryBudget{Disabled: true}}}
}, withRetries)}

// flaky answers share of the attempts with a 503 that has no wait hint,
// drawn per request index and attempt (failsDraw), so the same attempts fail
// for every client.
func flaky(share int) func(llmretrytest.Request) llmretrytest.Step {
	return failing(share, 0, func() llmretrytest.Step { return llmretrytest.Dialect("openai").Overloaded(0) })
}

// runBudget measures the retry budget: scattered 503s, where retries should
// go on, and a total outage, where they should stop.
func runBudget(cfg config, cs []client) {
	const n, share = 300, 30
	timeout := cfg.requestTimeout(time.Duration(float64(cfg.n) / cfg.rate * float64(time.Second)))
	fmt.Printf("### Retry budget: %d requests, %d%% of attempts answered 503 without a wait hint; and a total outage (every answer 503), %d requests, 5 s deadline (max %d retries)\n\n",
		n, share, n/3, cfg.retries)
	ideal, per := drawnIdeal(n, share, cfg.retries)
	fmt.Printf("With these draws, a client that retries every failed attempt up to %d times succeeds on %d/%d, with %.2f attempts per request.\n\n", cfg.retries, ideal, n, per)
	fmt.Println("| client | succeeded with 30% 503s | attempts per request | outage: attempts per request | outage wall |")
	fmt.Println("|---|---|---|---|---|")
	var flakyJobs, outageJobs []job
	for _, c := range cs {
		flakyJobs = append(flakyJobs, job{c: c, setup: func(s *llmretrytest.Server) { s.Respond(flaky(share)) }})
		outageJobs = append(outageJobs, job{c: c, setup: func(s *llmretrytest.Server) { s.Respond(flaky(100)) }})
	}
	fl := runAll(cfg, n, timeout, limits{}, flakyJobs)
	out := runAll(cfg, n/3, 5*time.Second, limits{}, outageJobs)
	for k, c := range cs {
		fmt.Printf("| %s | %d/%d | %.2f | %.2f | %v |\n", c.name, fl[k].ok, n, float64(len(fl[k].log))/n,
			float64(len(out[k].log))/float64(n/3), out[k].wall.Round(time.Millisecond))
	}
	fmt.Println()
}
