package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// config is the command line.
type config struct {
	n, workers, burst, retries int
	rate                       float64
	timeout                    time.Duration // per request; 0 means 4× the optimum
	serial                     bool          // clients of a cell one after the other
	parallel                   int           // matrix rows run at once
	timeline                   time.Duration // -timeline: trace llmretry's pacing per interval of this width
	tail                       int           // -tail: print each fleet cell's last requests' attempts
	trace                      *pacingTrace  // set per job by runAll when timeline > 0
	proc                       string        // a fleet's worker process: sent as processHeader
	redisAddr, redisPrefix     string        // the fleet's Redis clients: the server and the cell's key prefix (redis.go)
	selfRefuse                 time.Duration // -fleet-selfrefuse
	fleetTokens                bool          // -fleet-tokens: the fleet's server limits tokens (tokenScenario), not requests
}

// result is one client's run of one scenario.
type result struct {
	start     time.Time
	wall      time.Duration
	ok        int
	failed    int
	latencies []time.Duration        // of each request, as the caller saw it
	log       []llmretrytest.Request // what the server received
	trace     *pacingTrace           // llmretry's pacing, with -timeline
}

// run sends n requests through send with cfg.workers workers, each request
// under its own deadline of timeout, and collects the server's log.
func run(cfg config, n int, timeout time.Duration, send func(context.Context, int) bool, srv *llmretrytest.Server) result {
	var next, ok atomic.Int64
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				t := time.Now()
				if send(ctx, i) {
					ok.Add(1)
				}
				lat[i] = time.Since(t)
				cancel()
			}
		}()
	}
	wg.Wait()
	r := result{start: start, wall: time.Since(start), ok: int(ok.Load()), latencies: lat, log: srv.Requests()}
	r.failed = n - r.ok
	return r
}

// job is one client's run in a cell: its own server and its own client.
type job struct {
	c     client
	setup func(*llmretrytest.Server)
}

// runAll runs the jobs side by side (or one after the other with -serial),
// each against its own fake provider, so that no client's requests count
// against another's limit. Side by side, they share the machine's cores
// equally.
func runAll(cfg config, n int, timeout time.Duration, lim limits, jobs []job) []result {
	out := make([]result, len(jobs))
	one := func(k int) {
		srv := llmretrytest.NewServer()
		defer srv.Close()
		jobs[k].setup(srv)
		cfg := cfg
		if cfg.timeline > 0 {
			cfg.trace = &pacingTrace{}
		}
		send := jobs[k].c.make(cfg, lim, srv.URL)
		out[k] = run(cfg, n, timeout, send, srv)
		out[k].trace = cfg.trace
	}
	if cfg.serial {
		for k := range jobs {
			one(k)
		}
		return out
	}
	var wg sync.WaitGroup
	for k := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); one(k) }()
	}
	wg.Wait()
	return out
}

// status counts the answers with status s.
func (r result) status(s int) int {
	n := 0
	for _, q := range r.log {
		if q.Status == s {
			n++
		}
	}
	return n
}

// peak is the most requests the server received in any window of width w,
// leaving out windows that begin within w of the first request: the first
// burst of a run comes before the client could know anything.
func (r result) peak(w time.Duration) int { return r.peakAfter(w, w) }

// peakAfter is the most requests the server received in any window of
// width w beginning skip or more after the first request.
func (r result) peakAfter(w, skip time.Duration) int {
	if len(r.log) == 0 {
		return 0
	}
	ts := make([]time.Time, len(r.log))
	for i, q := range r.log {
		ts[i] = q.Time
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	first, best, j := ts[0], 0, 0
	for i, t := range ts {
		if t.Sub(first) < skip {
			continue
		}
		if j < i {
			j = i
		}
		for j < len(ts) && ts[j].Sub(t) < w {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// peakTokens is peak for a tokens limit: the most tokens the attempts the
// server received in any window of width w cost.
func (r result) peakTokens(w time.Duration) int {
	if len(r.log) == 0 {
		return 0
	}
	log := slices.Clone(r.log)
	slices.SortFunc(log, func(a, b llmretrytest.Request) int { return a.Time.Compare(b.Time) })
	first, best, j, sum := log[0].Time, 0, 0, 0
	for i, q := range log {
		if j < i {
			j, sum = i, 0
		}
		for j < len(log) && log[j].Time.Sub(q.Time) < w {
			sum += log[j].Tokens
			j++
		}
		if q.Time.Sub(first) >= w {
			best = max(best, sum)
		}
		sum -= q.Tokens
	}
	return best
}

// slot is one bar of the picture: answers by kind in one interval.
type slot struct{ ok, limited, other int }

// histogram counts the server's answers per interval of width w from the run's start.
func (r result) histogram(w time.Duration) []slot {
	var h []slot
	for _, q := range r.log {
		k := int(q.Time.Sub(r.start) / w)
		if k < 0 {
			k = 0
		}
		for len(h) <= k {
			h = append(h, slot{})
		}
		switch q.Status {
		case http.StatusOK:
			h[k].ok++
		case http.StatusTooManyRequests:
			h[k].limited++
		default:
			h[k].other++
		}
	}
	return h
}

// percentile is the p-th percentile (0–100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(p / 100 * float64(len(s)-1))
	return s[k]
}

// pacingTrace records what llmretry's Observer reports: the limit in force
// after each attempt and each pacing wait.
type pacingTrace struct {
	mu     sync.Mutex
	limits []tracedLimit
	waits  []tracedWait
}

type tracedLimit struct {
	at  time.Time
	lim llmretry.Pace
}

type tracedWait struct {
	at   time.Time
	wait time.Duration
}

// observer returns an Observer that records into t; nil when t is nil.
func (t *pacingTrace) observer() *llmretry.Observer {
	if t == nil {
		return nil
	}
	return &llmretry.Observer{
		AttemptEnd: func(s llmretry.AttemptInfo, _ *http.Response) {
			t.mu.Lock()
			t.limits = append(t.limits, tracedLimit{time.Now(), s.Pace})
			t.mu.Unlock()
		},
		Paced: func(_ context.Context, w llmretry.PacingWait) {
			t.mu.Lock()
			t.waits = append(t.waits, tracedWait{time.Now(), w.Wait})
			t.mu.Unlock()
		},
	}
}

// printTimelines writes, for each cell and client, the server's answers per
// interval of width w (successes and 429s) and, for llmretry, the request
// and token rates in force and the mean pacing wait: to see where a run lost
// time.
func printTimelines(cs []client, rows []matrixRow, w time.Duration) {
	for _, row := range rows {
		for k, r := range row.results {
			fmt.Printf("\n%s, %s: wall %v\n", row.cell.name(), cs[k].name, r.wall.Round(time.Millisecond))
			h := r.histogram(w)
			type agg struct {
				n          int
				req, tok   float64
				nw         int
				wait, maxw time.Duration
			}
			as := make([]agg, len(h)+1)
			if t := r.trace; t != nil {
				for _, l := range t.limits {
					if i := int(l.at.Sub(r.start) / w); i >= 0 && i < len(as) {
						as[i].n++
						as[i].req += float64(l.lim.RequestRate)
						as[i].tok += float64(l.lim.TokenRate)
					}
				}
				for _, x := range t.waits {
					if i := int(x.at.Sub(r.start) / w); i >= 0 && i < len(as) {
						as[i].nw++
						as[i].wait += x.wait
						as[i].maxw = max(as[i].maxw, x.wait)
					}
				}
			}
			for i, s := range h {
				a := as[i]
				line := fmt.Sprintf("  %6.2fs  %3d ok %3d 429 %3d other", (time.Duration(i) * w).Seconds(), s.ok, s.limited, s.other)
				if a.n > 0 {
					line += fmt.Sprintf("   req/s %7.1f tok/s %8.0f", a.req/float64(a.n), a.tok/float64(a.n))
				}
				if a.nw > 0 {
					line += fmt.Sprintf("   wait mean %v max %v", (a.wait / time.Duration(a.nw)).Round(time.Millisecond), a.maxw.Round(time.Millisecond))
				}
				fmt.Println(line)
			}
		}
	}
}
