package main

import (
	"fmt"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// runQuota: every answer is 429 quota_exceeded, which no retry fixes.
func runQuota(cfg config, cs []client) {
	const n = 100
	fmt.Printf("### Quota exhausted: every answer is 429 quota_exceeded, %d requests, 10 s deadline (ideal: 1 attempt each)\n\n", n)
	fmt.Println("| client | attempts per request | wall |")
	fmt.Println("|---|---|---|")
	var jobs []job
	for _, c := range cs {
		jobs = append(jobs, job{c: c, setup: func(s *llmretrytest.Server) {
			s.Respond(func(llmretrytest.Request) llmretrytest.Step {
				return llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 429, Type: "quota_exceeded", Code: "quota_exceeded",
					Message: "You exceeded your current quota, please check your plan and billing details."})
			})
		}})
	}
	for k, r := range runAll(cfg, n, 10*time.Second, limits{}, jobs) {
		fmt.Printf("| %s | %.2f | %v |\n", cs[k].name, float64(len(r.log))/n, r.wall.Round(time.Millisecond))
	}
	fmt.Println()
}

// runOverload: each request's first attempt gets 503 with Retry-After: 1.
func runOverload(cfg config, cs []client) {
	n := cfg.workers
	fmt.Printf("### Overload: 503 with Retry-After: 1 once per request, %d requests (ideal: retry 1.000 s later)\n\n", n)
	fmt.Println("| client | mean delay before the retry | retries before the advised time | succeeded |")
	fmt.Println("|---|---|---|---|")
	var jobs []job
	for _, c := range cs {
		jobs = append(jobs, job{c: c, setup: func(s *llmretrytest.Server) {
			s.Respond(func(r llmretrytest.Request) llmretrytest.Step {
				if r.Attempt == 1 {
					return llmretrytest.Dialect("openai").Overloaded(1)
				}
				return llmretrytest.Step{}
			})
		}})
	}
	for k, r := range runAll(cfg, n, time.Minute, limits{}, jobs) {
		var sum time.Duration
		delays, early := 0, 0
		for _, q := range r.log {
			if q.Early {
				early++
			}
			if q.Attempt > 1 && q.SinceHint > 0 {
				sum += q.SinceHint
				delays++
			}
		}
		delay := "no retry"
		if delays > 0 {
			delay = fmt.Sprintf("%.3f s", (sum / time.Duration(delays)).Seconds())
		}
		fmt.Printf("| %s | %s | %d | %d |\n", cs[k].name, delay, early, r.ok)
	}
	fmt.Println()
}
