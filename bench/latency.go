package main

import (
	"fmt"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// runLatency measures what pacing adds when no limit is ever hit: the server
// never answers 429 and takes generation to answer (a non-streaming answer's
// headers come when the whole generation is done). Each round uses a fresh
// client, so a new key's first requests are in every round; the clients run
// one after the other, alternating, so they do not share the cores.
func runLatency(cfg config) {
	const n, rounds, generation = 1000, 5, 50 * time.Millisecond
	lat := map[string][]time.Duration{}
	first := map[string][]time.Duration{} // per round: the slowest of the first wave, a new key's concurrent requests
	cs := []client{plain, learned}
	for round := 0; round < rounds; round++ {
		for _, c := range cs {
			serial := cfg
			serial.serial = true
			r := runAll(serial, n, time.Minute, limits{}, []job{{c: c, setup: func(s *llmretrytest.Server) {
				s.Respond(func(llmretrytest.Request) llmretrytest.Step { return llmretrytest.Step{Delay: generation} })
			}}})[0]
			lat[c.name] = append(lat[c.name], r.latencies...)
			first[c.name] = append(first[c.name], percentile(r.latencies[:min(cfg.workers, n)], 100))
		}
	}
	fmt.Printf("### Latency added with no limit hit: %d requests × %d rounds, %d workers, every answer 200 after %v, a fresh client each round\n\n",
		n, rounds, cfg.workers, generation)
	fmt.Println("| client | p50 | p99 | max | p50 ÷ plain | p99 ÷ plain | slowest of the first wave (median of rounds) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	base := lat[plain.name]
	for _, c := range cs {
		l := lat[c.name]
		fmt.Printf("| %s | %v | %v | %v | %.3f | %.3f | %v |\n", c.name, percentile(l, 50).Round(10*time.Microsecond),
			percentile(l, 99).Round(10*time.Microsecond), percentile(l, 100).Round(10*time.Microsecond),
			percentile(l, 50).Seconds()/percentile(base, 50).Seconds(), percentile(l, 99).Seconds()/percentile(base, 99).Seconds(),
			percentile(first[c.name], 50).Round(10*time.Microsecond))
	}
	fmt.Println()
}
