// Command llmretry-demo shows what llmretry changes for a workload that meets
// rate limits, overload, aborted generations and an exhausted quota.
//
// With no flags it starts a fake provider (llmretrytest) on 127.0.0.1 that
// enforces a rate limit and injects the errors of one provider's dialect, then
// sends the same workload twice, through a plain http.Client and through
// llmretry, and prints the two side by side:
//
//	go run ./cmd/llmretry-demo
//	go run ./cmd/llmretry-demo -provider cencori -n 500 -w 64 -rate 80
//
// A second section shows fallback: one model answers GPT-Gob's 503
// horde_unavailable to a share of requests (-p-overload), and for streams an
// error event after its 200; llmretry sends those requests to another model,
// which answers.
//
// A third section shows a pool: three deployments of one model, each with
// its own key and rate limit (20, 10 and 5 requests/s), the first answering
// 503 to a share of requests (-p-overload); llmretry spreads the workload
// over the three by headroom (Policy.Pool) and moves an overloaded request
// to another at once, where a plain client knows one deployment. -pool-n
// sets its size (0 skips it); the faults follow -seed.
//
// With -base-url it sends a small, bounded workload to a real
// OpenAI-compatible endpoint instead, with the API key taken from the
// environment variable named by -key-env (LLMRETRY_API_KEY by default):
//
//	LLMRETRY_API_KEY=... go run ./cmd/llmretry-demo -base-url https://api.cerebras.ai/v1 -model llama3.1-8b
//
// -fallback-model names a model to send a request to when -model answers
// that it is overloaded or rate limited; each answer says which model gave it.
//
// With -metrics, the llmretry run records OpenTelemetry metrics (through
// the otel module) into a Prometheus exporter: -metrics - prints them after
// the run, -metrics :9464 serves them at http://localhost:9464/metrics
// during the run and after it, until interrupted.
//
// The demo is its own module, so that the core module does not depend on
// OpenTelemetry; the repository's go.work lets `go run ./cmd/llmretry-demo`
// work from its root.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

type options struct {
	provider         string
	n, workers       int
	rate             float64
	burst, keys      int
	p503, p500, p429 float64
	seed             uint64
	baseURL, model   string
	keyEnv           string
	timeout          time.Duration
	nFallback        int
	nPool            int
	fallbackModel    string
	pOverload        float64
	metrics          string       // "": none; "-": print after the run; else the address to serve them on
	wait             func() error // blocks while the metrics are served; nil: until interrupted
}

func main() {
	var o options
	flag.StringVar(&o.provider, "provider", "gptgob", "error dialect of the fake provider: "+dialectList())
	flag.IntVar(&o.n, "n", 300, "requests to send")
	flag.IntVar(&o.workers, "w", 32, "concurrent workers")
	flag.Float64Var(&o.rate, "rate", 50, "fake provider's rate limit, requests per second")
	flag.IntVar(&o.burst, "burst", 5, "fake provider's burst")
	flag.IntVar(&o.keys, "keys", 4, "API keys the workload spreads over; the last one is out of quota")
	flag.Float64Var(&o.p503, "p503", 0.05, "share of answers that are 503 overload")
	flag.Float64Var(&o.p500, "p500", 0.03, "share of answers that are 500 aborted generations")
	flag.Float64Var(&o.p429, "p429", 0.02, "share of extra 429s with a wait hint, beyond the rate limit")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the injected faults")
	flag.StringVar(&o.baseURL, "base-url", "", "run against this real OpenAI-compatible endpoint (e.g. https://api.cerebras.ai/v1)")
	flag.StringVar(&o.model, "model", "", "model for -base-url")
	flag.StringVar(&o.fallbackModel, "fallback-model", "", "with -base-url, the model to fall back to when -model is overloaded or rate limited")
	flag.StringVar(&o.keyEnv, "key-env", "LLMRETRY_API_KEY", "environment variable holding the API key for -base-url")
	flag.DurationVar(&o.timeout, "timeout", time.Minute, "deadline of each request")
	flag.IntVar(&o.nFallback, "fallback-n", 200, "requests of the fallback section (0 skips it)")
	flag.Float64Var(&o.pOverload, "p-overload", 0.3, "share of the fallback and pool sections' requests that the busy model (deployment) refuses as overloaded")
	flag.IntVar(&o.nPool, "pool-n", 140, "requests of the pool section (0 skips it)")
	flag.StringVar(&o.metrics, "metrics", "", "record llmretry's OpenTelemetry metrics: - prints them after the run, an address (e.g. :9464) serves them at /metrics")
	flag.Parse()

	err := withMetrics(o, func(obs *llmretry.Observer) error {
		if o.baseURL != "" {
			return runReal(o, obs)
		}
		return runDemo(o, obs)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "llmretry-demo:", err)
		os.Exit(1)
	}
}

func dialectList() string {
	var names []string
	for _, d := range llmretrytest.Dialects() {
		names = append(names, d.String())
	}
	return strings.Join(names, ", ")
}

// policyFor maps a dialect to the built-in policy of the same name, or the
// generic one.
func policyFor(d llmretrytest.Dialect) *llmretry.Policy {
	for _, p := range llmretry.Policies() {
		if p.Name == d.String() {
			return p
		}
	}
	return llmretry.Provider("generic")
}

// stats is what one run measured.
type stats struct {
	name              string
	ok, failed        int
	attempts, limited int
	latencies         []time.Duration
	// The out-of-quota key's requests, measured: how many the workload sent
	// with it, how many of those failed, and how many attempts the server
	// received with it.
	quotaRequests, quotaFailed, quotaAttempts int
	// Those attempts, by answer: refused for quota (the answer the key
	// always gets once admitted), or refused by the server's rate limit
	// (a 429 worth retrying); and how many of each the client retried.
	quotaRefused, quotaRefusedRetried int
	quotaLimited, quotaLimitedRetried int
	wall                              time.Duration
}

// withMetrics runs f with an Observer that records metrics if o asks for
// them, and prints or serves them.
func withMetrics(o options, f func(*llmretry.Observer) error) error {
	if o.metrics == "" {
		return f(nil)
	}
	m, err := newMetrics()
	if err != nil {
		return err
	}
	defer m.close()
	if o.metrics != "-" {
		if err := m.serve(o.metrics); err != nil {
			return err
		}
		fmt.Printf("Serving llmretry's metrics at http://%s/metrics\n\n", m.addr)
	}
	if err := f(m.observer); err != nil {
		return err
	}
	if o.metrics == "-" {
		fmt.Println("\nllmretry's OpenTelemetry metrics, as Prometheus scrapes them (histogram buckets left out):")
		m.print(os.Stdout)
		return nil
	}
	fmt.Printf("\nStill serving the metrics at http://%s/metrics; interrupt (Ctrl-C) to stop.\n", m.addr)
	wait := o.wait
	if wait == nil {
		wait = func() error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			<-ctx.Done()
			return nil
		}
	}
	return wait()
}

func runDemo(o options, obs *llmretry.Observer) error {
	d, ok := llmretrytest.Dialect(o.provider), slices.Contains(llmretrytest.Dialects(), llmretrytest.Dialect(o.provider))
	if !ok {
		return fmt.Errorf("unknown -provider %q; one of %s", o.provider, dialectList())
	}
	if o.n <= 0 || o.workers <= 0 || o.keys <= 0 {
		return fmt.Errorf("-n, -w and -keys must be positive")
	}
	fmt.Printf("Fake %s provider on 127.0.0.1: %g requests/s per key (burst %d),\n", d, o.rate, o.burst)
	fmt.Printf("%.0f%% 503s, %.0f%% aborted generations (500), %.0f%% extra 429s, key %d of %d out of quota.\n",
		100*o.p503, 100*o.p500, 100*o.p429, o.keys, o.keys)
	fmt.Printf("Sending %d chat completions with %d workers, twice.\n\n", o.n, o.workers)

	plain := run(o, d, "plain http.Client", func() http.RoundTripper { return &http.Transport{MaxIdleConnsPerHost: o.workers} })
	retry := run(o, d, "llmretry", func() http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{MaxIdleConnsPerHost: o.workers}, Policy: policyFor(d), Observer: obs}
	})
	fmt.Println()
	printTable(os.Stdout, plain, retry)
	if o.keys > 1 {
		fmt.Println()
		fmt.Print(quotaFooter(o.keys, plain, retry))
	}
	if o.nFallback > 0 {
		runFallback(os.Stdout, o, obs)
	}
	if o.nPool > 0 {
		runPool(os.Stdout, o, obs)
	}
	return nil
}

// quotaFooter says what happened to the out-of-quota key's requests, as
// measured in the two runs: the quota refusals and the rate-limit 429s that
// the same key met are counted apart, each with how many were retried.
func quotaFooter(key int, plain, retry stats) string {
	return fmt.Sprintf("Key %d is out of quota: %d of its %d requests failed with the plain client, %d of %d with llmretry.\n"+
		"%s\n%s\nOther failures: %d plain, %d llmretry.\n",
		key, plain.quotaFailed, plain.quotaRequests, retry.quotaFailed, retry.quotaRequests,
		quotaSentence(plain), quotaSentence(retry), plain.failed-plain.quotaFailed, retry.failed-retry.quotaFailed)
}

// quotaSentence says how often s's run sent the out-of-quota key's requests
// and what those attempts met.
func quotaSentence(s stats) string {
	msg := fmt.Sprintf("%s sent them %d times: %s for quota (%s)", s.name, s.quotaAttempts,
		count(s.quotaRefused, "refusal", "refusals"), retried(s.quotaRefusedRetried, s.quotaRefused))
	if s.quotaLimited > 0 {
		msg += fmt.Sprintf(", %s from the key's rate limit (%s)",
			count(s.quotaLimited, "429", "429s"), retried(s.quotaLimitedRetried, s.quotaLimited))
	}
	return msg + "."
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// retried says how many of n answers were retried.
func retried(r, n int) string {
	switch {
	case r == 0:
		return "none retried"
	case r == n && n == 1:
		return "retried"
	case r == n:
		return "all retried"
	}
	return fmt.Sprintf("%d retried", r)
}

// keyFor is the API key of request i: the workload spreads over o.keys keys,
// and the last one is out of quota.
func keyFor(i int, o options) string { return fmt.Sprintf("Bearer sk-demo-%d", i%o.keys+1) }

// run starts a fresh fake provider and sends the workload through rt.
func run(o options, d llmretrytest.Dialect, name string, rt func() http.RoundTripper) stats {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	spec := llmretrytest.Style("openai").Spec(llmretrytest.Requests, o.rate, o.burst)
	spec.Dialect = d
	srv.SetLimit(spec)
	var mu sync.Mutex         // guards refused
	refused := map[int]bool{} // the Seq of each quota refusal
	quotaKey := keyFor(o.keys-1, o)
	srv.Respond(func(r llmretrytest.Request) llmretrytest.Step {
		if o.keys > 1 && r.Header.Get("Authorization") == quotaKey {
			mu.Lock()
			refused[r.Seq] = true
			mu.Unlock()
			return d.QuotaExhausted()
		}
		switch x := faultRand(o.seed, r).Float64(); {
		case x < o.p503:
			return d.Overloaded(0)
		case x < o.p503+o.p500:
			return d.ServerError()
		case x < o.p503+o.p500+o.p429:
			return d.RateLimit(1)
		}
		return llmretrytest.Step{}
	})

	client := &http.Client{Transport: rt()}
	defer client.CloseIdleConnections()
	st := stats{name: name, latencies: make([]time.Duration, o.n)}
	var next, done, failed atomic.Int64
	okFlags := make([]bool, o.n)
	progress := newProgress(name, o.n)
	stop := progress.start(&done, &failed)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				t0 := time.Now()
				okFlags[i] = send(client, srv.URL, i, o)
				st.latencies[i] = time.Since(t0)
				if !okFlags[i] {
					failed.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	st.wall = time.Since(start)
	stop()
	for i, ok := range okFlags {
		if ok {
			st.ok++
		}
		if o.keys > 1 && keyFor(i, o) == quotaKey {
			st.quotaRequests++
			if !ok {
				st.quotaFailed++
			}
		}
	}
	st.failed = o.n - st.ok
	log := srv.Requests()
	last := map[[32]byte]int{} // each request's last attempt, by body
	for _, r := range log {
		last[r.BodyHash] = r.Seq
	}
	for _, r := range log {
		st.attempts++
		if r.Status == http.StatusTooManyRequests {
			st.limited++
		}
		if o.keys <= 1 || r.Header.Get("Authorization") != quotaKey {
			continue
		}
		st.quotaAttempts++
		again := 0
		if last[r.BodyHash] != r.Seq {
			again = 1 // the same request came again
		}
		if refused[r.Seq] {
			st.quotaRefused++
			st.quotaRefusedRetried += again
		} else {
			st.quotaLimited++
			st.quotaLimitedRetried += again
		}
	}
	return st
}

// faultRand is the random source that picks request r's fault: a function
// of the seed, the request's body (which holds its index) and its attempt
// number, not of the order requests arrive in, so that every run with the
// same seed injects the same faults into the same attempts. (Which attempts
// the server's rate limit refuses still depends on timing.)
func faultRand(seed uint64, r llmretrytest.Request) *rand.Rand {
	return rand.New(rand.NewPCG(seed^binary.LittleEndian.Uint64(r.BodyHash[:8]), uint64(r.Attempt)))
}

func send(c *http.Client, baseURL string, i int, o options) bool {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	body := fmt.Sprintf(`{"model":"fake-model","messages":[{"role":"user","content":"Say hello (%d)."}],"max_tokens":32}`, i)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", keyFor(i, o))
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func printTable(w io.Writer, runs ...stats) {
	type row = tableRow[stats]
	writeTable(w, runs, func(s stats) string { return s.name },
		row{"succeeded", func(s stats) string { return fmt.Sprint(s.ok) }},
		row{"failed", func(s stats) string { return fmt.Sprint(s.failed) }},
		row{"attempts", func(s stats) string { return fmt.Sprint(s.attempts) }},
		row{"429s received", func(s stats) string { return fmt.Sprint(s.limited) }},
		row{"p50 latency", func(s stats) string { return percentile(s.latencies, 0.5).Round(time.Millisecond).String() }},
		row{"p99 latency", func(s stats) string { return percentile(s.latencies, 0.99).Round(time.Millisecond).String() }},
		row{"wall time", func(s stats) string { return s.wall.Round(time.Millisecond).String() }})
}
