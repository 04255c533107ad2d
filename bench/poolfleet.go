package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	"github.com/llmretry/llmretry/redislimit"
	"github.com/redis/go-redis/v9"
)

// The pool fleet (issue 25): poolFleetProcs processes share the pool
// scenario's three targets through one Redis (redislimit), each sending its
// share of the requests with its share of the workers. Configured: each
// target's Limits as its provider states them, shared; learned: no limits,
// the learned paces shared.
const poolFleetProcs = 4

// runPoolWorker is a pool fleet's worker process.
func runPoolWorker(spec workerSpec) error {
	rdb := redis.NewClient(&redis.Options{Addr: spec.Redis})
	defer rdb.Close()
	lim := redislimit.New(rdb, redislimit.Options{})
	tr := poolTransport(spec.URLs, spec.Client == "configured")
	for i := range tr.Policy.Pool {
		tg := &tr.Policy.Pool[i]
		if tg.Policy == nil {
			tg.Policy = &llmretry.Policy{Name: "pool-t" + strconv.Itoa(i)}
		}
		tg.Policy.Limits.Limiter = lim
	}
	send := poolSend(&http.Client{Transport: tr}, spec.URLs[0])
	time.Sleep(time.Until(time.Unix(0, spec.StartUnixNano)))
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	for range spec.W {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= spec.N {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
				if send(llmretry.WithMaxRetries(ctx, spec.Retries), spec.First+i) {
					ok.Add(1)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(workerResult{OK: int(ok.Load()), EndUnixNano: time.Now().UnixNano()})
}

// startRedisServer starts redis-server on a free loopback port; stop ends it.
func startRedisServer() (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, func() { cmd.Process.Kill(); cmd.Wait() }, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return "", nil, fmt.Errorf("redis-server did not start on %s", addr)
}

// runPoolFleetOnce runs the pool fleet once for a client ("learned" or
// "configured").
func runPoolFleetOnce(cfg config, name, redisAddr string) (poolRun, error) {
	srvs, urls, stop := poolServers(time.Now(), false)
	defer stop()
	start := time.Now().Add(500 * time.Millisecond) // the workers' startup is not timed
	var specs []workerSpec
	per := poolN / poolFleetProcs
	for k := range poolFleetProcs {
		specs = append(specs, workerSpec{Client: name, URLs: urls, Redis: redisAddr, First: k * per, N: per, W: poolWorkers / poolFleetProcs,
			Proc: k, Procs: poolFleetProcs, StartUnixNano: start.UnixNano(), Retries: cfg.retries, Timeout: time.Minute})
	}
	var out poolRun
	ok, end, err := runWorkers(specs)
	if err != nil {
		return out, err
	}
	out.failed = per*poolFleetProcs - ok
	out.wall = end.Sub(start)
	out.tally(srvs)
	return out, nil
}

// peakRate is the most 200s a target answered in any second-long window
// (sliding by 100 ms), over its rate plus burst: above 1, it was overrun.
func peakRate(log []llmretrytest.Request, rate float64) float64 {
	var times []time.Time
	for _, q := range log {
		if q.Status == http.StatusOK {
			times = append(times, q.Time)
		}
	}
	peak, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		peak = max(peak, i-j+1)
	}
	return float64(peak) / (rate + max(1, rate/10))
}

// runPoolFleet prints the pool fleet's table: rounds runs of each client.
func runPoolFleet(cfg config, rounds int) {
	addr, stop, err := startRedisServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: pool fleet:", err)
		return
	}
	defer stop()
	optimum := float64(poolN) / (poolRates[0] + poolRates[1] + poolRates[2])
	fmt.Printf("### Pool fleet: %d processes share the pool's three targets (%v requests/s) through one Redis (redislimit); %d requests, %d workers in all, optimum %.0f s; %d runs each, median [min–max]\n\n",
		poolFleetProcs, poolRates, poolN, poolWorkers, optimum, rounds)
	fmt.Println("| client | wall ÷ optimum | failed | share of each target (capacity 57/29/14 %) | worst share ÷ capacity share | 429s | most 200s of a target in a second ÷ its rate + burst |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, name := range []string{"configured", "learned"} {
		var wall, failed, worst, refused, peak []float64
		var shares [3][]float64
		for range rounds {
			r, err := runPoolFleetOnce(cfg, name, addr)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench: pool fleet:", err)
				return
			}
			wall = append(wall, r.wall.Seconds()/optimum)
			failed = append(failed, float64(r.failed))
			total := float64(r.served[0] + r.served[1] + r.served[2])
			w, n429, p := 0.0, 0, 0.0
			for i := range r.served {
				share := float64(r.served[i]) / total
				shares[i] = append(shares[i], 100*share)
				w = max(w, math.Abs(share/(poolRates[i]/(poolRates[0]+poolRates[1]+poolRates[2]))-1))
				n429 += r.refused[i]
				p = max(p, peakRate(r.logs[i], poolRates[i]))
			}
			worst, refused, peak = append(worst, w), append(refused, float64(n429)), append(peak, p)
		}
		fmt.Printf("| llmretry pool ×%d, %s | %s | %s | %s / %s / %s %% | ±%s | %s | %s |\n", poolFleetProcs, name,
			spread(wall, 3), spread(failed, 0), spread(shares[0], 1), spread(shares[1], 1), spread(shares[2], 1),
			spread(worst, 3), spread(refused, 0), spread(peak, 2))
	}
	fmt.Println()
}
