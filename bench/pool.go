package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// The pool scenario (issue 25): one workload over three equivalent targets
// (three fake providers, each with its own key) of 100, 50 and 25 requests/s,
// announced as OpenAI does; 1,400 requests, 64 workers: optimum 8 s.
//
//   - llmretry's Policy.Pool, zero config (every target's pace learned) and
//     configured (each target's Limits as its provider states them);
//   - the same with the 100/s target refusing everything (503 and 529, no
//     hint) from 2 s to 4 s: failures, p99 against the run without the
//     fault, and how soon after 4 s the target answers a request again;
//   - go-retryablehttp and openai-go, which send to one target only (the
//     100/s one: optimum 14 s).
var poolRates = []float64{100, 50, 25}

const (
	poolN, poolWorkers = 1400, 64
	poolDownFrom       = 2 * time.Second
	poolDownTo         = 4 * time.Second
)

// poolRun is one run of the scenario.
type poolRun struct {
	wall      time.Duration
	failed    int
	latencies []time.Duration
	served    []int         // 200s answered by each target
	refused   []int         // 429s answered by each target
	back      time.Duration // faulted runs: from the recovery to the target's next 200; -1 if none
	logs      [][]llmretrytest.Request
}

// tally reads each target's log into the run, with the 200s and 429s it
// answered.
func (out *poolRun) tally(srvs []*llmretrytest.Server) {
	for _, s := range srvs {
		log := s.Requests()
		out.logs = append(out.logs, log)
		ok, refused := 0, 0
		for _, q := range log {
			switch q.Status {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				refused++
			}
		}
		out.served, out.refused = append(out.served, ok), append(out.refused, refused)
	}
}

// poolServers starts the targets, the first refusing everything between
// poolDownFrom and poolDownTo after start when fault is set; it returns them,
// their URLs, and stop, which closes them.
func poolServers(start time.Time, fault bool) (srvs []*llmretrytest.Server, urls []string, stop func()) {
	for i, r := range poolRates {
		s := llmretrytest.NewServer()
		s.SetLimit(llmretrytest.Style("openai").Spec(llmretrytest.Requests, r, max(1, int(r/10))))
		if fault && i == 0 {
			var n atomic.Int64
			s.Respond(func(llmretrytest.Request) llmretrytest.Step {
				if since := time.Since(start); since >= poolDownFrom && since < poolDownTo {
					if n.Add(1)%2 == 0 {
						return llmretrytest.Dialect("anthropic").Overloaded(0) // 529
					}
					return llmretrytest.Dialect("openai").Overloaded(0) // 503
				}
				return llmretrytest.Step{}
			})
		}
		srvs, urls = append(srvs, s), append(urls, s.URL)
	}
	return srvs, urls, func() {
		for _, s := range srvs {
			s.Close()
		}
	}
}

// poolTransport is llmretry over the targets at urls: configured gives each
// target its Limits.
func poolTransport(urls []string, configured bool) *llmretry.Transport {
	pol := &llmretry.Policy{Name: "pool"}
	for i, u := range urls {
		tg := llmretry.Target{Name: "t" + strconv.Itoa(i), BaseURL: u + "/v1", StripPrefix: "/v1",
			Header: http.Header{"Authorization": {"Bearer sk-bench-" + strconv.Itoa(i)}}}
		if configured {
			tg.Policy = &llmretry.Policy{Name: "pool-t" + strconv.Itoa(i), Limits: llmretry.Limits{
				RequestsPerMinute: poolRates[i] * 60, RequestBurst: max(1, int(poolRates[i]/10))}}
		}
		pol.Pool = append(pol.Pool, tg)
	}
	return &llmretry.Transport{Base: newBase(), Policy: pol}
}

// poolSend sends request i through c to url.
func poolSend(c *http.Client, url string) func(context.Context, int) bool {
	return func(ctx context.Context, i int) bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body(i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-bench-0")
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

// runPoolOnce runs one client: name is "learned", "configured", or a peer's
// name (one target only).
func runPoolOnce(cfg config, name string, fault bool) poolRun {
	start := time.Now()
	srvs, urls, stop := poolServers(start, fault)
	defer stop()
	var send func(context.Context, int) bool
	switch name {
	case "learned", "configured":
		send = poolSend(&http.Client{Transport: poolTransport(urls, name == "configured")}, urls[0])
		send = withCtx(send, func(ctx context.Context) context.Context { return llmretry.WithMaxRetries(ctx, cfg.retries) })
	default:
		for _, c := range peers {
			if c.name == name {
				send = c.make(cfg, limits{}, urls[0])
			}
		}
	}
	cfg.workers = poolWorkers
	r := run(cfg, poolN, time.Minute, send, srvs[0])
	out := poolRun{wall: r.wall, failed: r.failed, latencies: r.latencies, back: -1}
	out.tally(srvs)
	if fault {
		recovered := start.Add(poolDownTo)
		for _, q := range out.logs[0] {
			if q.Status == http.StatusOK && q.Time.After(recovered) {
				out.back = q.Time.Sub(recovered)
				break
			}
		}
	}
	return out
}

func withCtx(send func(context.Context, int) bool, f func(context.Context) context.Context) func(context.Context, int) bool {
	return func(ctx context.Context, i int) bool { return send(f(ctx), i) }
}

// runPool prints the pool scenario's table: rounds runs of each client, one
// after the other, with their spread.
func runPool(cfg config, rounds int, only string) {
	optimum := float64(poolN) / (poolRates[0] + poolRates[1] + poolRates[2])
	fmt.Printf("### Pool: %d requests, %d workers, three targets of %v requests/s (OpenAI's announcement, each its own key and server), optimum %.0f s; %d runs each, median [min–max]\n\n",
		poolN, poolWorkers, poolRates, optimum, rounds)
	fmt.Println("| client | fault | wall ÷ optimum | failed | share of each target (capacity 57/29/14 %) | worst share ÷ capacity share | 429s | p99 | p99 − p99 without the fault | the faulted target's next 200 after it recovers |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	type cell struct {
		name  string
		fault bool
	}
	var cells []cell
	for _, c := range []cell{{"learned", false}, {"learned", true}, {"configured", false}, {"configured", true},
		{retryablehttpClient.name, false}, {openaiClient.name, false}} {
		if strings.Contains(poolClientName(c.name), only) {
			cells = append(cells, c)
		}
	}
	runs := map[cell][]poolRun{}
	for k := 0; k < rounds; k++ {
		for _, c := range cells {
			runs[c] = append(runs[c], runPoolOnce(cfg, c.name, c.fault))
		}
	}
	for _, c := range cells {
		rs := runs[c]
		var wall, failed, worst, refused, p99, dp99, back []float64
		var shares [3][]float64
		for k, r := range rs {
			wall = append(wall, r.wall.Seconds()/optimum)
			failed = append(failed, float64(r.failed))
			total := float64(r.served[0] + r.served[1] + r.served[2])
			w, n429 := 0.0, 0
			for i := range r.served {
				share := float64(r.served[i]) / total
				shares[i] = append(shares[i], 100*share)
				capShare := poolRates[i] / (poolRates[0] + poolRates[1] + poolRates[2])
				w = math.Max(w, math.Abs(share/capShare-1))
				n429 += r.refused[i]
			}
			worst = append(worst, w)
			refused = append(refused, float64(n429))
			p := percentile(r.latencies, 99)
			p99 = append(p99, p.Seconds())
			if base := runs[cell{c.name, false}]; c.fault && len(base) > k {
				dp99 = append(dp99, (p - percentile(base[k].latencies, 99)).Seconds())
				back = append(back, r.back.Seconds())
			}
		}
		name := poolClientName(c.name)
		fault := "—"
		if c.fault {
			fault = "t0 refuses 2–4 s"
		}
		fmt.Printf("| %s | %s | %s | %s | %s / %s / %s %% | ±%s | %s | %s s | %s | %s |\n", name, fault,
			spread(wall, 3), spread(failed, 0), spread(shares[0], 1), spread(shares[1], 1), spread(shares[2], 1),
			spread(worst, 3), spread(refused, 0), spread(p99, 2), orDash(c.fault, dp99, " s"), orDash(c.fault, back, " s"))
	}
	fmt.Println()
}

// poolClientName is the table's name of a client of the pool scenario.
func poolClientName(name string) string {
	if name != "learned" && name != "configured" {
		return name + " (target 0 only: optimum 14 s)"
	}
	return "llmretry pool, " + name
}

// spread is a median and its range.
func spread(xs []float64, prec int) string {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	f := "%." + strconv.Itoa(prec) + "f"
	if len(s) == 1 {
		return fmt.Sprintf(f, s[0])
	}
	return fmt.Sprintf(f+" ["+f+"–"+f+"]", s[len(s)/2], s[0], s[len(s)-1])
}

func orDash(ok bool, xs []float64, unit string) string {
	if !ok {
		return "—"
	}
	return spread(xs, 2) + unit
}
