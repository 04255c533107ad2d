package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// The priority scenario's request headers: who sent it, and what it costs.
const (
	classHeader  = "X-Bench-Class"
	tokensHeader = "X-Bench-Tokens"
)

// prioRun is one run of the priority scenario's traffic on one key: a
// Transport with limits lim, and senders, each a class of requests sent by
// its own workers in a loop until the run ends.
type prioRun struct {
	lim     llmretry.Limits
	server  llmretrytest.Style // the server's limit and how it announces it; "" for none
	rate    float64            // the server's requests/s, with server
	senders []sender
	dur     time.Duration
}

// sender is one class of traffic: workers sending at once, or one request
// every every (then workers is 1).
type sender struct {
	class    string
	workers  int
	every    time.Duration
	priority int
	tenant   string
	sizes    bool // random sizes of 50 to 5,000 tokens, else 1
}

// prioResult is what a run measured: the server's log and, per class, the
// pacing waits the Observer was told of.
type prioResult struct {
	log   []llmretrytest.Request
	waits map[string][]time.Duration
	start time.Time
	end   time.Time
}

func (pr prioRun) run() prioResult {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	if pr.server != "" {
		srv.SetLimit(pr.server.Spec(llmretrytest.Requests, pr.rate, 10))
	}
	var mu sync.Mutex
	res := prioResult{waits: map[string][]time.Duration{}}
	pol := &llmretry.Policy{Name: "bench", Limits: pr.lim}
	pol.Limits.Cost = func(req *http.Request, _ []byte) int {
		n, _ := strconv.Atoi(req.Header.Get(tokensHeader))
		return max(n, 1)
	}
	type classKey struct{}
	tr := &llmretry.Transport{Base: newBase(), Policy: pol, Observer: &llmretry.Observer{
		Paced: func(ctx context.Context, w llmretry.PacingWait) {
			c, _ := ctx.Value(classKey{}).(string)
			mu.Lock()
			res.waits[c] = append(res.waits[c], w.Wait)
			mu.Unlock()
		},
	}}
	c := &http.Client{Transport: tr}
	// Stopped by a cancel, not a deadline: a deadline would fail at once
	// (ErrDeadline) the requests queued behind more than it leaves.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(pr.dur, cancel)
	send := func(s sender, r *rand.Rand) {
		size := 1
		if s.sizes {
			size = 50 + r.IntN(4951)
		}
		rctx := context.WithValue(llmretry.WithTenant(llmretry.WithPriority(ctx, s.priority), s.tenant), classKey{}, s.class)
		req, _ := http.NewRequestWithContext(rctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body(0)))
		req.Header.Set("Authorization", "Bearer sk-bench")
		req.Header.Set(classHeader, s.class)
		req.Header.Set(tokensHeader, strconv.Itoa(size))
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	res.start = time.Now()
	var wg sync.WaitGroup
	for si, s := range pr.senders {
		for w := range s.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(si), uint64(w)))
				if s.every > 0 {
					tick := time.NewTicker(s.every)
					defer tick.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case <-tick.C:
							go send(s, r) // on time, whatever the last one waits
						}
					}
				}
				for ctx.Err() == nil {
					send(s, r)
				}
			}()
		}
	}
	wg.Wait()
	res.end = time.Now()
	time.Sleep(50 * time.Millisecond) // the ticker's last sends
	res.log = srv.Requests()
	return res
}

// sent sums, per class, the requests and tokens the server received in
// [from, to) after the run's start.
func (r prioResult) sent(from, to time.Duration) (reqs, tokens map[string]float64) {
	reqs, tokens = map[string]float64{}, map[string]float64{}
	for _, q := range r.log {
		if d := q.Time.Sub(r.start); d < from || d >= to {
			continue
		}
		c := q.Header.Get(classHeader)
		n, _ := strconv.Atoi(q.Header.Get(tokensHeader))
		reqs[c]++
		tokens[c] += float64(n)
	}
	return reqs, tokens
}

// runPriority runs the priority scenario: -prio-runs runs of each part,
// each -prio-duration long, the first 2 s of each left out of the shares
// (the queues fill).
func runPriority(cfg config, runs int, dur time.Duration) {
	const warm = 2 * time.Second
	window := (dur - warm).Seconds()
	rpm := cfg.rate * 60
	fmt.Printf("### Priority and fair shares on one key (%d runs of %v each; shares from %v on)\n\n", runs, dur, warm)

	fmt.Printf("Interactive first: a key at %.0f requests/s, configured (paced at 99%%) or learned from the server's OpenAI-style headers (burst 10), a batch client keeping 1,000 requests queued, an interactive client sending 1 request/s.\n\n", cfg.rate)
	fmt.Println("| run | limit | interactive priority | interactive waits | p50 | p99 | max | batch requests/s | ÷ limit |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, mode := range []string{"configured", "learned"} {
		for _, ip := range []int{0, 10} {
			var all []time.Duration
			for k := range runs {
				pr := prioRun{lim: llmretry.Limits{RequestsPerMinute: rpm}, dur: dur, senders: []sender{
					{class: "batch", workers: 1000},
					{class: "interactive", workers: 1, every: time.Second, priority: ip},
				}}
				if mode == "learned" {
					pr.lim, pr.server, pr.rate = llmretry.Limits{}, "openai", cfg.rate
				}
				r := pr.run()
				reqs, _ := r.sent(warm, dur)
				w := r.waits["interactive"]
				all = append(all, w...)
				fmt.Printf("| %d | %s | %d | %d | %v | %v | %v | %.1f | %.3f |\n", k+1, mode, ip, len(w),
					percentile(w, 50).Round(100*time.Microsecond), percentile(w, 99).Round(100*time.Microsecond),
					percentile(w, 100).Round(100*time.Microsecond), reqs["batch"]/window, reqs["batch"]/window/cfg.rate)
			}
			fmt.Printf("| all | %s | %d | %d | %v | %v | %v | | |\n", mode, ip, len(all), percentile(all, 50).Round(100*time.Microsecond),
				percentile(all, 99).Round(100*time.Microsecond), percentile(all, 100).Round(100*time.Microsecond))
		}
	}
	fmt.Println()

	fmt.Printf("Never starved: the same key, 1,000 requests at priority 10 always queued, 50 at priority 0 (MinShare: the default 5%%).\n\n")
	fmt.Println("| run | high requests/s | low requests/s | low share |")
	fmt.Println("|---|---|---|---|")
	for k := range runs {
		r := prioRun{lim: llmretry.Limits{RequestsPerMinute: rpm}, dur: dur, senders: []sender{
			{class: "high", workers: 1000, priority: 10},
			{class: "low", workers: 50},
		}}.run()
		reqs, _ := r.sent(warm, dur)
		fmt.Printf("| %d | %.1f | %.1f | %.2f%% |\n", k+1, reqs["high"]/window, reqs["low"]/window,
			100*reqs["low"]/(reqs["high"]+reqs["low"]))
	}
	fmt.Println()

	tpm := cfg.rate * 1000 * 60 // ~40 requests/s of 2,525 tokens on average
	fmt.Printf("Fair shares: a tokens limit of %.0f tokens/s (burst 10,000), four tenants at one priority with 40, 4, 4 and 4 workers (10×, 1×, 1×, 1× the demand), requests of 50 to 5,000 tokens.\n\n", tpm/60)
	fmt.Println("| run | big | t1 | t2 | t3 | furthest from fair | Jain's index | tokens/s ÷ limit |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	names := []string{"big", "t1", "t2", "t3"}
	for k := range runs {
		r := prioRun{lim: llmretry.Limits{TokensPerMinute: tpm, TokenBurst: 10000}, dur: dur, senders: []sender{
			{class: "big", workers: 40, tenant: "big", sizes: true},
			{class: "t1", workers: 4, tenant: "t1", sizes: true},
			{class: "t2", workers: 4, tenant: "t2", sizes: true},
			{class: "t3", workers: 4, tenant: "t3", sizes: true},
		}}.run()
		_, toks := r.sent(warm, dur)
		var sum, sq, worst float64
		for _, n := range names {
			sum += toks[n]
			sq += toks[n] * toks[n]
		}
		fmt.Printf("| %d |", k+1)
		for _, n := range names {
			share := toks[n] / sum
			worst = max(worst, math.Abs(share*4-1))
			fmt.Printf(" %.1f%% |", 100*share)
		}
		fmt.Printf(" %.1f%% | %.4f | %.3f |\n", 100*worst, sum*sum/(4*sq), sum/window/(tpm/60))
	}
	fmt.Println()
}
