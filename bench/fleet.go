package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// The fleet scenarios: real OS processes share one key on one server, with
// no coordination but the server's answers, as replicas of a service do.
// The bench re-executes itself as the workers (-worker); the parent runs
// the server and reads its log.
//
//   - fleet: P processes (-procs) send N/P requests each with W/P workers.
//     llmretry configured gets R/P per process (what a user who splits the
//     limit writes).
//   - leave: 4 processes; one sends half the requests, three the rest. The
//     three finish early (they leave); the one left should take the freed
//     capacity: the share of it that it takes in the second second after
//     the last leaver's last request is reported (issue 20: ≥ 90%).

// processHeader carries a worker's index, so that the parent can tell the
// processes' requests apart in the server's log.
const processHeader = "X-Bench-Process"

// fleetStyles are the fleet's default rows: issue 20's table and the
// announcements that only approximate the server.
const fleetStyles = "openai,retry-after,bare,inexact,window-over-bucket"

// workerSpec is what a worker process is told, as one JSON flag.
type workerSpec struct {
	Client        string
	URL           string
	First, N, W   int
	Proc          int
	Procs         int
	StartUnixNano int64
	Retries       int
	Rate          float64
	Burst         int
	Timeout       time.Duration
	RedisAddr     string // the Redis clients' server and the cell's key prefix
	RedisPrefix   string
	URLs          []string      // the pool fleet: its targets
	Redis         string        // the pool fleet: the address of the Redis its processes share
	Timeline      time.Duration // -timeline: trace llmretry's pace per interval of this width (fleettimeline.go)
}

// workerResult is what a worker prints.
type workerResult struct {
	OK          int
	EndUnixNano int64
	Pace        []float64 // with -timeline: the request rate in force per interval (fleettimeline.go)
}

// runWorker is the worker process's main: it sends its requests from
// spec.StartUnixNano on, and prints its result as JSON.
func runWorker(arg string) error {
	var spec workerSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil {
		return err
	}
	if spec.Redis != "" {
		return runPoolWorker(spec)
	}
	var cl *client
	for i := range fleetPeers {
		if fleetPeers[i].name == spec.Client {
			cl = &fleetPeers[i]
		}
	}
	if cl == nil {
		return fmt.Errorf("no client %q", spec.Client)
	}
	cfg := config{workers: spec.W, retries: spec.Retries, proc: strconv.Itoa(spec.Proc), rate: spec.Rate, burst: spec.Burst,
		redisAddr: spec.RedisAddr, redisPrefix: spec.RedisPrefix}
	if spec.Timeline > 0 {
		cfg.trace = &pacingTrace{}
	}
	share := spec.Rate / float64(spec.Procs)
	lim := limits{requestsPerMinute: share * 60, requestBurst: max(spec.Burst/spec.Procs, 1)}
	send := cl.make(cfg, lim, spec.URL)
	time.Sleep(time.Until(time.Unix(0, spec.StartUnixNano)))
	ok := 0
	var mu sync.Mutex
	var next int
	var wg sync.WaitGroup
	for w := 0; w < spec.W; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= spec.N {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
				good := send(ctx, spec.First+i)
				cancel()
				if good {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(workerResult{OK: ok, EndUnixNano: time.Now().UnixNano(),
		Pace: cfg.trace.paceSeries(time.Unix(0, spec.StartUnixNano), spec.Timeline)})
}

// fleetRun is one client's fleet in one cell.
type fleetRun struct {
	wall, afterLeave time.Duration
	failed           int
	log              []llmretrytest.Request
	start            time.Time
	selfRefused      int // -fleet-selfrefuse: attempts refused by the front, and attempts of its requests after their refusal
	selfLate         int
	took             float64 // leave: the share of the freed capacity the one left took in the second second; NaN if not measured
}

// fleetPeers are the fleet scenarios' clients: the peers, and llmretry on
// a shared Redis.
var fleetPeers = append(slices.Clone(peers), redisClients...)

// runFleetCell runs cl as procs processes, the i-th sending shares[i]
// requests, against one server in style st.
func runFleetCell(cfg config, cl client, st llmretrytest.Style, shares []int, timeout time.Duration, shift bool) (fleetRun, error) {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	spec := st.Spec(llmretrytest.Requests, cfg.rate, cfg.burst)
	if cfg.fleetTokens {
		r, b, _ := tokenScenario(cfg)
		spec = st.Spec(llmretrytest.Tokens, r, b)
	}
	srv.SetLimit(spec)
	start := time.Now().Add(500 * time.Millisecond) // the workers' startup is not timed
	if q := spec.Quotas[0]; q.Window {
		start = start.Truncate(q.Per).Add(q.Per)
	}
	if shift {
		done := make(chan struct{})
		defer close(done)
		go shiftLimit(srv, st, cfg, start, done)
	}
	url := srv.URL
	var front *selfRefuser
	if cfg.selfRefuse > 0 {
		front = newSelfRefuser(srv.URL, cfg.selfRefuse)
		defer front.Close()
		url = front.URL
	}
	var specs []workerSpec
	first := 0
	prefix := cellPrefix()
	for k, n := range shares {
		specs = append(specs, workerSpec{Client: cl.name, URL: url, First: first, N: n, W: max(cfg.workers*n/cfg.n, 1), Proc: k, Procs: len(shares),
			StartUnixNano: start.UnixNano(), Retries: cfg.retries, Rate: cfg.rate, Burst: cfg.burst, Timeout: timeout,
			RedisAddr: cfg.redisAddr, RedisPrefix: prefix, Timeline: cfg.timeline})
		first += n
	}
	results, ok, end, err := runWorkers(specs)
	run := fleetRun{log: srv.Requests(), start: start, took: math.NaN()}
	if err != nil {
		return run, err
	}
	run.failed = first - ok
	run.wall = end.Sub(start)
	if front != nil {
		run.selfRefused, run.selfLate = int(front.refused.Load()), int(front.late.Load())
	}
	if cfg.tail > 0 {
		printFleetTail(fmt.Sprintf("%s, %s ×%d", cl.name, st, len(shares)), run, cfg.tail)
	}
	if cfg.timeline > 0 {
		printFleetTimeline(fmt.Sprintf("%s, %s ×%d", cl.name, st, len(shares)), run, results, cfg.timeline)
	}
	if len(shares) > 1 && shares[0] > shares[1] {
		run.took = run.freedTaken(cfg.rate * learnedShare)
	}
	return run, nil
}

// The shift scenario's schedule: the server's rate is R until shiftDown,
// R×shiftFactor until shiftUp, R again after (a provider lowering a key's
// limit under load, then restoring it). Each change starts fresh quotas
// (llmretrytest.Server.SetLimit), with their burst.
// -shift-factor and -shift-up set the latter two.
var (
	shiftDown   = 2 * time.Second
	shiftUp     = 4 * time.Second
	shiftFactor = 0.5
)

// shiftLimit applies the shift schedule to srv from start until done.
func shiftLimit(srv *llmretrytest.Server, st llmretrytest.Style, cfg config, start time.Time, done <-chan struct{}) {
	for _, c := range []struct {
		at   time.Duration
		rate float64
	}{{shiftDown, cfg.rate * shiftFactor}, {shiftUp, cfg.rate}} {
		select {
		case <-done:
			return
		case <-time.After(time.Until(start.Add(c.at))):
		}
		srv.SetLimit(st.Spec(llmretrytest.Requests, c.rate, cfg.burst))
	}
}

// shiftOptimum is the least time n requests take under the shift schedule:
// the burst at the start and at each change, the rate in between.
func shiftOptimum(cfg config) time.Duration {
	left := max(float64(cfg.n-cfg.burst), 0)
	for _, ph := range []struct {
		from, to time.Duration
		rate     float64
	}{{0, shiftDown, cfg.rate}, {shiftDown, shiftUp, cfg.rate * shiftFactor}} {
		d := ph.to - ph.from
		if can := ph.rate * d.Seconds(); left <= can {
			return ph.from + time.Duration(left/ph.rate*float64(time.Second))
		}
		left -= ph.rate*d.Seconds() + float64(cfg.burst)
	}
	return shiftUp + time.Duration(max(left, 0)/cfg.rate*float64(time.Second))
}

// learnedShare is the most of the server's rate one process is expected
// to take alone: the freed capacity is measured against it (llmretry's
// learned pace keeps 3% headroom).
const learnedShare = 0.97

// freedTaken is, for a leave cell, the share of the capacity freed when
// the leavers' last request arrived that process 0 took in the second
// second after: (its rate then − its rate in the 2 s before) ÷ (capacity −
// its rate before). NaN if process 0 was done by then.
func (f fleetRun) freedTaken(capacity float64) float64 {
	var leave, last0 time.Time
	for _, q := range f.log {
		if q.Header.Get(processHeader) == "0" {
			last0 = maxTime(last0, q.Time)
		} else {
			leave = maxTime(leave, q.Time)
		}
	}
	if !last0.After(leave.Add(2 * time.Second)) {
		return math.NaN()
	}
	ok0 := func(from, to time.Time) float64 {
		n := 0
		for _, q := range f.log {
			if q.Status == 200 && q.Header.Get(processHeader) == "0" && !q.Time.Before(from) && q.Time.Before(to) {
				n++
			}
		}
		return float64(n) / to.Sub(from).Seconds()
	}
	before := ok0(leave.Add(-2*time.Second), leave)
	after := ok0(leave.Add(time.Second), leave.Add(2*time.Second))
	if capacity <= before {
		return math.NaN()
	}
	return (after - before) / (capacity - before)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// runFleet runs the fleet (leave: the leave scenario) for the styles and
// process counts, each client's fleet one after the other, and prints a
// table: a row per style and count, a column per client.
// shift: the server's rate changes mid-run (shiftLimit).
func runFleet(cfg config, cs []client, styleNames string, procs []int, leave, shift bool) {
	if styleNames == "" {
		styleNames = fleetStyles
	}
	if needsRedis(cs) {
		addr, stop, err := startRedis(cfg.redisAddr)
		if err != nil {
			fmt.Printf("(the redislimit clients are left out: %v)\n\n", err)
			cs = slices.DeleteFunc(slices.Clone(cs), func(c client) bool { return needsRedis([]client{c}) })
		} else {
			defer stop()
			cfg.redisAddr = addr
		}
	}
	optimum := time.Duration(float64(cfg.n) / cfg.rate * float64(time.Second))
	timeout := cfg.requestTimeout(optimum)
	title := "Fleet: P OS processes share one key"
	switch {
	case leave:
		title = "Leave: 4 OS processes share one key; one sends half the requests, three leave early"
		procs = []int{4}
	case shift:
		optimum = shiftOptimum(cfg)
		timeout = cfg.requestTimeout(optimum)
		title = fmt.Sprintf("Shift: P OS processes share one key; the server's rate falls to %g× at %v and is restored at %v (optimum %.2f s)",
			shiftFactor, shiftDown, shiftUp, optimum.Seconds())
	}
	if cfg.fleetTokens {
		title += " (a tokens limit: the matrix's, same optimum)"
	}
	fmt.Printf("### %s: %d requests in all, %d workers in all, a server allowing %g requests/s with burst %d, max %d retries, %v deadline per request\n\n",
		title, cfg.n, cfg.workers, cfg.rate, cfg.burst, cfg.retries, timeout)
	fmt.Println("Each entry: wall ÷ optimum (from the common start to the last process's end), failed requests, 429s, the most attempts " +
		"the server received in any 20 ms after the first second against 2 × (burst + 1)" +
		map[bool]string{true: "; took: the share of the freed capacity the process left took in the second second after the others left (target ≥ 90%)", false: ""}[leave] +
		". llmretry configured: R/P per process; llmretry + redislimit configured: R for the key, shared in Redis.")
	fmt.Println()
	fmt.Print("| announced as | processes |")
	for _, c := range cs {
		fmt.Printf(" %s |", c.name)
	}
	fmt.Print("\n|---|---|")
	for range cs {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, st := range llmretrytest.Styles() {
		if !listed(styleNames, string(st)) {
			continue
		}
		for _, p := range procs {
			shares := make([]int, p)
			for k := range shares {
				shares[k] = cfg.n / p
			}
			if leave {
				shares[0] = cfg.n / 2
				for k := 1; k < p; k++ {
					shares[k] = (cfg.n - shares[0]) / (p - 1)
				}
			}
			fmt.Printf("| %s | %d |", string(st), p)
			for _, cl := range cs {
				r, err := runFleetCell(cfg, cl, st, shares, timeout, shift)
				if err != nil {
					fmt.Printf(" error: %v |", err)
					continue
				}
				fmt.Printf(" %s |", r.entry(cfg, optimum))
			}
			fmt.Println()
		}
	}
	fmt.Println()
}

func (f fleetRun) entry(cfg config, optimum time.Duration) string {
	res := result{log: f.log}
	peak := res.peakAfter(20*time.Millisecond, time.Second)
	allowed := 2 * (cfg.burst + 1)
	mark := ""
	if peak > allowed {
		mark = " ✗"
	}
	s := fmt.Sprintf("%.2f×, %d failed, %d 429s, %d/%d%s", f.wall.Seconds()/optimum.Seconds(), f.failed, res.status(429), peak, allowed, mark)
	if cfg.selfRefuse > 0 {
		s += fmt.Sprintf(", self-refused: %d attempts refused, %d after", f.selfRefused, f.selfLate)
	}
	if !math.IsNaN(f.took) {
		s += fmt.Sprintf(", took %.0f%%", 100*f.took)
	}
	return s
}

// parseProcs reads -procs: comma-separated process counts.
func parseProcs(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}
