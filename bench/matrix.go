package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// cell is one row of the matrix: a way of announcing the limit, and the
// unit it limits.
type cell struct {
	style llmretrytest.Style
	unit  llmretrytest.Unit
	spec  llmretrytest.LimitSpec
	lim   limits
	// allowed is the bound for the peak per 20 ms: for a requests limit,
	// the most attempts the server's burst admits at once, plus one; for a
	// tokens limit, the most tokens it admits at once (its burst or a
	// window's allowance), plus the largest request's, since how many
	// requests fit depends on their sizes.
	allowed int
	// total is what the n requests cost in the binding quota's unit.
	total int
}

// optimum is the wall time at the limit's rate: what the n requests cost
// over the binding quota's rate (6 s for 600 requests at 100/s). A bucket's
// burst, or a window's allowance at the start and end of a run, can let a
// client finish a little sooner.
func (c cell) optimum() time.Duration {
	return time.Duration(float64(c.total) / c.spec.Quotas[0].Rate() * float64(time.Second))
}

// alignWindow waits for the next window of a windowed cell to start, so that
// every client's run starts with a whole window (a run that starts late in
// a window gets a second window's allowance sooner).
func (c cell) alignWindow() {
	if q := c.spec.Quotas[0]; q.Window {
		now := time.Now()
		time.Sleep(now.Truncate(q.Per).Add(q.Per).Sub(now))
	}
}

func (c cell) name() string { return string(c.style) + "/" + c.unit.String() }

// tokenScenario sizes the tokens limit so that its optimum equals the
// requests limit's: the n requests' total cost over n/rate seconds, with a
// burst of burst requests of average cost.
func tokenScenario(cfg config) (perSecond float64, burst int, mean float64) {
	total := 0
	for i := 0; i < cfg.n; i++ {
		total += serverTokens([]byte(body(i)))
	}
	mean = float64(total) / float64(cfg.n)
	return float64(total) / (float64(cfg.n) / cfg.rate), int(math.Round(mean * float64(cfg.burst))), mean
}

// cells builds the matrix's rows for the styles and units selected.
func cells(cfg config, styleNames, unitNames string) []cell {
	tokRate, tokBurst, _ := tokenScenario(cfg)
	totalTokens, maxCost := 0, 0
	for i := 0; i < cfg.n; i++ {
		c := serverTokens([]byte(body(i)))
		totalTokens += c
		maxCost = max(maxCost, c)
	}
	var out []cell
	for _, st := range llmretrytest.Styles() {
		if !listed(styleNames, string(st)) {
			continue
		}
		for _, u := range []llmretrytest.Unit{llmretrytest.Requests, llmretrytest.Tokens} {
			if !listed(unitNames, u.String()) {
				continue
			}
			c := cell{style: st, unit: u}
			if u == llmretrytest.Requests {
				c.spec = st.Spec(u, cfg.rate, cfg.burst)
				c.lim = limits{requestsPerMinute: cfg.rate * 60, requestBurst: cfg.burst}
				c.allowed = c.spec.Quotas[0].Limit + 1
				c.total = cfg.n
			} else {
				c.spec = st.Spec(u, tokRate, tokBurst)
				c.lim = limits{tokensPerMinute: tokRate * 60, tokenBurst: tokBurst}
				c.allowed = c.spec.Quotas[0].Limit + maxCost
				c.total = totalTokens
			}
			out = append(out, c)
		}
	}
	return out
}

// listed reports whether name is in the comma-separated list (empty: all).
func listed(list, name string) bool {
	if list == "" {
		return true
	}
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

// matrixRow is the results of one cell, one per client.
type matrixRow struct {
	cell    cell
	results []result
}

// runMatrix runs the matrix in two phases, every client against its own
// server. First llmretry's clients, side by side, one cell after the other:
// next to clients that retry in storms, their requests are delayed on their
// way to the server by tens of milliseconds on two shared cores, which
// bunches them up (measured: llmretry configured, 0 429s without the
// storms, 338 beside them). Then the other clients, whose timing is set by
// their backoff, side by side, cfg.parallel cells at a time.
func runMatrix(cfg config, cs []client, rows []cell) []matrixRow {
	optimum := time.Duration(float64(cfg.n) / cfg.rate * float64(time.Second))
	timeout := cfg.requestTimeout(optimum)
	out := make([]matrixRow, len(rows))
	jobsOf := func(c cell, pacing bool) (ks []int, jobs []job) {
		for k, cl := range cs {
			if cl.paces == pacing {
				spec := c.spec
				ks = append(ks, k)
				jobs = append(jobs, job{c: cl, setup: func(s *llmretrytest.Server) { s.SetLimit(spec) }})
			}
		}
		return ks, jobs
	}
	for i, c := range rows {
		out[i] = matrixRow{cell: c, results: make([]result, len(cs))}
		ks, jobs := jobsOf(c, true)
		c.alignWindow()
		for j, r := range runAll(cfg, cfg.n, timeout, c.lim, jobs) {
			out[i].results[ks[j]] = r
		}
	}
	sem := make(chan struct{}, max(cfg.parallel, 1))
	var wg sync.WaitGroup
	for i, c := range rows {
		ks, jobs := jobsOf(c, false)
		if len(jobs) == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.alignWindow()
			for j, r := range runAll(cfg, cfg.n, timeout, c.lim, jobs) {
				out[i].results[ks[j]] = r
			}
		}()
	}
	wg.Wait()
	return out
}

func (cfg config) requestTimeout(optimum time.Duration) time.Duration {
	if cfg.timeout > 0 {
		return cfg.timeout
	}
	return 4 * optimum
}

// printMatrix writes the matrix as one Markdown table: a row per cell, a
// column per client.
func printMatrix(cfg config, cs []client, rows []matrixRow) {
	nominal := time.Duration(float64(cfg.n) / cfg.rate * float64(time.Second))
	_, tokBurst, mean := tokenScenario(cfg)
	fmt.Printf("### Pacing matrix: %d requests, %d workers, a server allowing %g requests/s with burst %d, or the same in tokens "+
		"(%.0f tokens/request on average, burst %d tokens; windows: %g per one-second window), max %d retries, %v deadline per request\n\n",
		cfg.n, cfg.workers, cfg.rate, cfg.burst, mean, tokBurst, cfg.rate, cfg.retries, cfg.requestTimeout(nominal))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil && len(strings.Fields(string(b))) >= 3 {
		fmt.Printf("Load average when the matrix ended: %s (%d cores).\n\n", strings.Join(strings.Fields(string(b))[:3], " "), runtime.NumCPU())
	}
	fmt.Println("Optimum: the requests' cost at the limit's rate (windows: runs start as a window starts; a window's allowance at each end " +
		"lets a client finish up to one window sooner). Each entry: wall ÷ optimum, failed requests, 429s received, the most attempts the server received in any " +
		"20 ms (after the first 20 ms) against the server's burst + 1 (for a tokens limit, in tokens: the server's burst, or a window's allowance, " +
		"plus the largest request). Each client has its own server; llmretry's two run side by side, " +
		"then the others side by side.")
	fmt.Println()
	fmt.Print("| announced as | limit | optimum |")
	for _, c := range cs {
		fmt.Printf(" %s |", c.name)
	}
	fmt.Print("\n|---|---|---|")
	for range cs {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, row := range rows {
		fmt.Printf("| %s | %s | %.1f s |", string(row.cell.style), row.cell.unit, row.cell.optimum().Seconds())
		for _, r := range row.results {
			fmt.Printf(" %s |", row.cell.entry(r))
		}
		fmt.Println()
	}
	fmt.Println()
	for k, c := range cs {
		worst, worstCell, failed, over := 0.0, "", 0, 0
		for _, row := range rows {
			r := row.results[k]
			if x := r.wall.Seconds() / row.cell.optimum().Seconds(); x > worst {
				worst, worstCell = x, row.cell.name()
			}
			failed += r.failed
			if p, _ := row.cell.peak(r); p > row.cell.allowed {
				over++
			}
		}
		fmt.Printf("- %s: worst %.2f× (%s), %d failed in all, peak above burst + 1 in %d of %d cells\n",
			c.name, worst, worstCell, failed, over, len(rows))
	}
	fmt.Println()
}

// peak is the most the server received in any 20 ms after the first, in
// the cell's unit ("" for requests, " tok" for tokens).
func (c cell) peak(r result) (int, string) {
	if c.unit == llmretrytest.Tokens {
		return r.peakTokens(20 * time.Millisecond), " tok"
	}
	return r.peak(20 * time.Millisecond), ""
}

func (c cell) entry(r result) string {
	peak, unit := c.peak(r)
	mark := ""
	if peak > c.allowed {
		mark = " ✗"
	}
	return fmt.Sprintf("%.2f×, %d failed, %d 429s, %d/%d%s%s", r.wall.Seconds()/c.optimum().Seconds(), r.failed,
		r.status(429), peak, c.allowed, unit, mark)
}

// serverTokens is what the fake server counts a request against a Tokens
// quota: its prompt and max_tokens, at least 1.
func serverTokens(body []byte) int {
	in, out := llmretrytest.RequestTokens(body)
	return max(in+out, 1)
}
