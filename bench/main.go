// Command bench compares llmretry with other retry clients against fake LLM
// providers (llmretrytest) in one run, and prints the results as Markdown
// tables:
//
//	go run . [-n 600] [-w 64] [-rate 100] [-burst 10] [-retries 10] [-svg pacing.svg]
//
// Scenarios (-scenarios, comma-separated; all by default):
//
//   - matrix: every way real APIs announce a limit (llmretrytest.Styles) ×
//     {a requests limit, a tokens limit}: W workers send N requests, of
//     different sizes, to a server allowing R requests/s with burst B (or
//     the same in tokens), optimum N/R. Each client has its own server;
//     llmretry's clients run side by side, one row after the other, then the
//     others side by side, -parallel rows at a time (-serial: every client
//     of a row one after the other).
//     -svg writes a picture of the attempts per 100 ms of the -svg-cells.
//   - budget: 30% of attempts answered 503 without a hint, and a total
//     outage: what the retry budget keeps and what it stops.
//   - latency: a server that never limits: what pacing adds to p50 and p99
//     next to a bare http.Transport.
//   - outage: one model refuses everything (instant 503/529) for 5 s, then
//     answers: what succeeds, with 2 retries and a 30 s deadline.
//   - total-outage: the same model never answers: attempts per request (not
//     in the default list: llmretry's requests wait for their turn until
//     their 30 s deadline, so it takes about 4 minutes).
//   - quota: every answer 429 quota_exceeded; ideal is one attempt.
//   - overload: 503 with Retry-After: 1 once per request; ideal is a retry
//     exactly 1.0 s later.
//   - fleet (not run by default): -procs real OS processes (the bench
//     re-executing itself) share one key on one server, N and W split
//     between them; rows: -styles (default openai, retry-after, bare,
//     inexact, window-over-bucket) × -procs (default 1,4,8).
//     Besides the peers, llmretry on a redislimit.Limiter, configured
//     with the key's limit and zero-config: the processes share their
//     buckets, pauses and learned pace in one Redis (-redis, or a
//     redis-server the bench starts).
//   - leave (not run by default): 4 processes, three of which leave early:
//     how much of the freed capacity the one left takes within 2 s.
//   - sdk: llmretry against the SDK's own retries (openai-go, 2 retries) when
//     half the attempts get 500, when answers are slow (2 s) and flaky, and
//     when the server takes 10 requests a second and 429s the rest with
//     Retry-After: 1 (not in the default list: about 2 minutes).
//   - pool (not run by default): one workload over three targets of 100,
//     50 and 25 requests/s (Policy.Pool), learned and configured, with and
//     without one target refusing everything for 2 s; go-retryablehttp and
//     openai-go on one target beside them; -only keeps the clients whose
//     name contains it ("pool, configured"); -rounds runs of each.
//   - pool-fleet (not run by default): the pool's targets shared by 4
//     processes through one Redis (redislimit, redis-server on PATH),
//     configured and learned; -rounds runs of each.
//   - shift (not run by default): the fleet's cells on a server whose rate
//     falls to half at 2 s and is restored at 4 s (a limit that changes
//     mid-run); the optimum follows the schedule.
//   - priority (not run by default): one key shared by classes of traffic
//     (-prio-runs runs of -prio-duration each): a batch client keeping 1,000
//     requests queued at -rate and an interactive one sending 1 request/s,
//     at the same priority and at a higher one (its pacing waits, the
//     batch's throughput); 1,000 high-priority requests always queued and
//     50 low ones (the low share); four tenants with 10×, 1×, 1×, 1× the
//     demand on a tokens limit, requests of 50 to 5,000 tokens (each
//     tenant's share of the tokens, Jain's index).
//
// -only keeps the clients whose name contains it, -styles and -units the
// matrix's rows (e.g. -styles bare,github -units tokens).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 600, "requests in the matrix")
	flag.IntVar(&cfg.workers, "w", 64, "concurrent workers")
	flag.Float64Var(&cfg.rate, "rate", 100, "server limit, requests per second")
	flag.IntVar(&cfg.burst, "burst", 10, "server burst")
	flag.IntVar(&cfg.retries, "retries", 10, "max retries for every client")
	flag.DurationVar(&cfg.timeout, "timeout", 0, "deadline of each request in the matrix and budget scenarios; 0 means 4× the optimum")
	flag.BoolVar(&cfg.serial, "serial", false, "run the clients of a matrix row one after the other instead of side by side")
	flag.IntVar(&cfg.parallel, "parallel", 4, "matrix rows whose other clients run at once")
	only := flag.String("only", "", "run only clients whose name contains this (or one of its comma-separated parts)")
	styleNames := flag.String("styles", "", "matrix rows: comma-separated style names (default all)")
	unitNames := flag.String("units", "", "matrix rows: requests, tokens (default both)")
	scenarios := flag.String("scenarios", "matrix,budget,outage,latency,quota,overload", "scenarios to run")
	svgPath := flag.String("svg", "", "write the picture of the -svg-cells to this file")
	svgCells := flag.String("svg-cells", "retry-after/requests,bare/requests", "matrix cells drawn by -svg")
	flag.DurationVar(&cfg.timeline, "timeline", 0, "print each matrix cell's answers, and llmretry's pace, per interval of this width (e.g. 250ms)")
	flag.IntVar(&cfg.tail, "tail", 0, "fleet: print to stderr the attempts of each cell's N requests that ended last, and of those whose last attempt was refused")
	procs := flag.String("procs", "1,4,8", "fleet: process counts")
	flag.DurationVar(&cfg.selfRefuse, "fleet-selfrefuse", 0, "fleet: every 20th request is refused with a bare 429 for this long after its first attempt (refused for itself), the others served")
	flag.Float64Var(&shiftFactor, "shift-factor", shiftFactor, "shift: the share of the rate the server keeps from 2 s")
	flag.DurationVar(&shiftUp, "shift-up", shiftUp, "shift: when the server's rate is restored")
	flag.BoolVar(&cfg.fleetTokens, "fleet-tokens", false, "fleet: the server limits tokens (the matrix's tokens limit) instead of requests: big requests are refused while small ones fit")
	flag.StringVar(&cfg.redisAddr, "redis", "", "fleet: the Redis (host:port) of the redislimit clients; empty starts a redis-server")
	rounds := flag.Int("rounds", 3, "pool: runs of each client")
	worker := flag.String("worker", "", "internal: run as a fleet's worker process with this spec")
	prioRuns := flag.Int("prio-runs", 3, "priority: runs of each part")
	prioDur := flag.Duration("prio-duration", 20*time.Second, "priority: how long each run lasts")
	flag.Parse()
	if *worker != "" {
		if err := runWorker(*worker); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}

	if listed(*scenarios, "matrix") {
		cs := selectClients(peers, *only)
		rows := runMatrix(cfg, cs, cells(cfg, *styleNames, *unitNames))
		printMatrix(cfg, cs, rows)
		if cfg.timeline > 0 {
			printTimelines(cs, rows, cfg.timeline)
		}
		if *svgPath != "" {
			var drawn []matrixRow
			for _, name := range strings.Split(*svgCells, ",") {
				for _, row := range rows {
					if row.cell.name() == strings.TrimSpace(name) {
						drawn = append(drawn, row)
					}
				}
			}
			if err := writeSVG(*svgPath, cfg, cs, drawn); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				os.Exit(1)
			}
		}
	}
	fleetClients := selectClients(fleetPeers, *only)
	if strings.Contains(","+*scenarios+",", ",fleet,") {
		runFleet(cfg, fleetClients, *styleNames, parseProcs(*procs), false, false)
	}
	if strings.Contains(","+*scenarios+",", ",leave,") {
		runFleet(cfg, fleetClients, *styleNames, nil, true, false)
	}
	if strings.Contains(","+*scenarios+",", ",shift,") {
		runFleet(cfg, fleetClients, *styleNames, parseProcs(*procs), false, true)
	}
	if listed(*scenarios, "priority") {
		runPriority(cfg, *prioRuns, *prioDur)
	}
	if listed(*scenarios, "pool") {
		runPool(cfg, *rounds, *only)
	}
	if listed(*scenarios, "pool-fleet") {
		runPoolFleet(cfg, *rounds)
	}
	if listed(*scenarios, "budget") {
		runBudget(cfg, selectClients([]client{learned, budgetOff, retryablehttpClient, failsafeClient, openaiClient}, *only))
	}
	if listed(*scenarios, "outage") {
		runOutage(cfg, selectClients(outageClients(), *only))
	}
	if listed(*scenarios, "total-outage") {
		runTotalOutage(cfg, selectClients(outageClients(), *only))
	}
	if listed(*scenarios, "latency") && len(selectClients([]client{learned}, *only)) > 0 {
		runLatency(cfg)
	}
	if listed(*scenarios, "sdk") {
		runSDKCompare(cfg, selectClients([]client{learned, budgetOff, openaiClient}, *only))
	}
	all := append([]client{plain}, peers...)
	if listed(*scenarios, "quota") {
		runQuota(cfg, selectClients(all, *only))
	}
	if listed(*scenarios, "overload") {
		runOverload(cfg, selectClients(all, *only))
	}
}
