package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// config is the command line.
type config struct {
	n, workers, burst, retries int
	rate                       float64
	timeout                    time.Duration // per request; 0 means 4× the optimum
	serial                     bool          // clients of a cell one after the other
	parallel                   int           // matrix rows run at once
}

// result is one client's run of one scenario.
type result struct {
	start     time.Time
	wall      time.Duration
	ok        int
	failed    int
	latencies []time.Duration        // of each request, as the caller saw it
	log       []llmretrytest.Request // what the server received
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
		send := jobs[k].c.make(cfg, lim, srv.URL)
		out[k] = run(cfg, n, timeout, send, srv)
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
func (r result) peak(w time.Duration) int {
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
		if t.Sub(first) < w {
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
