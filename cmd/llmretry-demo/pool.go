package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// The pool section: one workload over three deployments of one model, each
// with its own key and rate limit; the largest one is overloaded for a
// share of requests (-p-overload, drawn from -seed).
var poolRates = []float64{20, 10, 5}

// poolStats is what one pool run measured.
type poolStats struct {
	name       string
	ok, failed int
	served     []int // 200s answered by each deployment
	attempts   int
	limited    int // 429s
	wall       time.Duration
}

// runPool sends o.nPool requests through a plain client to the first
// deployment (a client knows one endpoint) and through llmretry with the
// three deployments as a Pool.
func runPool(w io.Writer, o options, obs *llmretry.Observer) {
	fmt.Fprintf(w, "\nPool: three deployments of one model, each with its own key, limited to %v requests/s; the first\n", poolRates)
	fmt.Fprintf(w, "answers %.0f%% of requests 503 overloaded. %d requests; a client without a pool knows one deployment.\n\n",
		100*o.pOverload, o.nPool)
	plain := poolRun(o, "plain http.Client", func([]string) http.RoundTripper {
		return &http.Transport{MaxIdleConnsPerHost: o.workers}
	})
	one := poolRun(o, "llmretry, one deployment", func([]string) http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{MaxIdleConnsPerHost: o.workers}, Policy: llmretry.Provider("openai"), Observer: obs}
	})
	pooled := poolRun(o, "llmretry + pool", func(urls []string) http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{MaxIdleConnsPerHost: o.workers}, Policy: deployments(urls), Observer: obs}
	})
	printPool(w, plain, one, pooled)
}

// deployments is the policy of the pool section: each deployment at urls
// a target of its Pool, with its own key.
func deployments(urls []string) *llmretry.Policy {
	// Four retries, not the default two: the first wave of 8 workers finds
	// the three deployments' bursts (4, 2, 1) spent before any pace is
	// learned, and a pool whose targets are all cooling down spends an
	// attempt on each; with two retries one request of 60 failed in a
	// third of runs (TestPoolSection, 3 of 12 at d759087).
	p := &llmretry.Policy{Name: "deployments", MaxRetries: 4}
	for i, u := range urls {
		p.Pool = append(p.Pool, llmretry.Target{Name: "d" + strconv.Itoa(i), BaseURL: u + "/v1", StripPrefix: "/v1",
			Header: http.Header{"Authorization": {"Bearer sk-demo-deployment-" + strconv.Itoa(i)}}})
	}
	return p
}

func poolRun(o options, name string, rt func(urls []string) http.RoundTripper) poolStats {
	var srvs []*llmretrytest.Server
	var urls []string
	for i, r := range poolRates {
		s := llmretrytest.NewServer()
		defer s.Close()
		s.SetLimit(llmretrytest.Style("openai").Spec(llmretrytest.Requests, r, max(1, int(r/5))))
		if i == 0 {
			overloaded := llmretrytest.Dialect("openai").Overloaded(0)
			s.Respond(func(r llmretrytest.Request) llmretrytest.Step {
				if faultRand(o.seed, r).Float64() < o.pOverload {
					return overloaded
				}
				return llmretrytest.Step{}
			})
		}
		srvs, urls = append(srvs, s), append(urls, s.URL)
	}
	client := &http.Client{Transport: rt(urls)}
	defer client.CloseIdleConnections()
	st := poolStats{name: name, served: make([]int, len(srvs))}
	var smu sync.Mutex // guards st
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(o.workers, o.nPool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ok := askPool(client, urls[0], i, o.timeout)
				smu.Lock()
				if ok {
					st.ok++
				} else {
					st.failed++
				}
				smu.Unlock()
			}
		}()
	}
	for i := range o.nPool {
		next <- i
	}
	close(next)
	wg.Wait()
	st.wall = time.Since(start)
	for i, s := range srvs {
		for _, q := range s.Requests() {
			st.attempts++
			switch q.Status {
			case http.StatusOK:
				st.served[i]++
			case http.StatusTooManyRequests:
				st.limited++
			}
		}
	}
	return st
}

// askPool sends request i to the first deployment, with its key.
func askPool(c *http.Client, url string, i int, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	body := fmt.Sprintf(`{"model":"fake-model","messages":[{"role":"user","content":"Say hello (%d)."}],"max_tokens":32}`, i)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-demo-deployment-0")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

func printPool(w io.Writer, runs ...poolStats) {
	type row = tableRow[poolStats]
	rows := []row{
		{"succeeded", func(s poolStats) string { return fmt.Sprint(s.ok) }},
		{"failed", func(s poolStats) string { return fmt.Sprint(s.failed) }},
	}
	for i, r := range poolRates {
		rows = append(rows, row{fmt.Sprintf("answered by d%d (%v/s)", i, r), func(s poolStats) string { return fmt.Sprint(s.served[i]) }})
	}
	rows = append(rows,
		row{"attempts", func(s poolStats) string { return fmt.Sprint(s.attempts) }},
		row{"429s", func(s poolStats) string { return fmt.Sprint(s.limited) }},
		row{"wall time", func(s poolStats) string { return s.wall.Round(time.Millisecond).String() }})
	writeTable(w, runs, func(s poolStats) string { return s.name }, rows...)
}
