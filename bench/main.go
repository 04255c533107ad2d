// Command bench compares llmretry with other retry clients against a fake
// LLM provider (llmretrytest) that enforces a server-side rate limit, in one
// run, and prints the results as Markdown tables:
//
//	go run . [-n 600] [-w 64] [-rate 100] [-burst 10] [-retries 4]
//
// Scenarios:
//
//   - limit: W workers send N requests to a server allowing R requests/s
//     with burst B. Optimum wall time is N/R.
//   - quota: the server always answers 429 quota_exceeded; ideal is one
//     attempt per request.
//   - overload: the server answers 503 with Retry-After: 1 once per request;
//     ideal is a retry exactly 1.0 s later.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

type config struct {
	n, workers, burst, retries int
	rate                       float64
}

// client sends request i and reports whether it succeeded.
type client struct {
	name string
	make func(cfg config, baseURL string) func(ctx context.Context, i int) bool
}

func httpClient(rt func(cfg config) http.RoundTripper) func(config, string) func(context.Context, int) bool {
	return func(cfg config, baseURL string) func(context.Context, int) bool {
		c := &http.Client{Transport: rt(cfg)}
		return func(ctx context.Context, i int) bool {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/chat/completions", strings.NewReader(body(i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer sk-bench")
			resp, err := c.Do(req)
			if err != nil {
				return false
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}
	}
}

func body(i int) string {
	return fmt.Sprintf(`{"model":"fake-model","messages":[{"role":"user","content":"request %d"}],"max_tokens":16}`, i)
}

func newBase() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
}

var clients = []client{
	{"plain net/http", httpClient(func(config) http.RoundTripper { return newBase() })},
	{"go-retryablehttp", httpClient(func(cfg config) http.RoundTripper {
		c := retryablehttp.NewClient()
		c.HTTPClient.Transport = newBase()
		c.RetryMax = cfg.retries
		c.Logger = nil
		c.ErrorHandler = retryablehttp.PassthroughErrorHandler
		return &retryablehttp.RoundTripper{Client: c}
	})},
	{"failsafe-go failsafehttp", httpClient(func(cfg config) http.RoundTripper {
		rp := failsafehttp.NewRetryPolicyBuilder().WithMaxRetries(cfg.retries).ReturnLastFailure().Build()
		return failsafehttp.NewRoundTripper(newBase(), rp)
	})},
	{"openai-go", func(cfg config, baseURL string) func(context.Context, int) bool {
		c := openai.NewClient(option.WithBaseURL(baseURL+"/v1/"), option.WithAPIKey("sk-bench"),
			option.WithMaxRetries(cfg.retries), option.WithHTTPClient(&http.Client{Transport: newBase()}))
		return func(ctx context.Context, i int) bool {
			_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
				Model:     "fake-model",
				Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(fmt.Sprintf("request %d", i))},
				MaxTokens: openai.Int(16),
			})
			return err == nil
		}
	}},
	{"llmretry, limit configured", httpClient(func(cfg config) http.RoundTripper {
		return &llmretry.Transport{Base: newBase(), Policy: &llmretry.Policy{MaxRetries: cfg.retries,
			Limits: llmretry.Limits{RequestsPerMinute: cfg.rate * 60, RequestBurst: cfg.burst}}}
	})},
	{"llmretry, limit learned", httpClient(func(cfg config) http.RoundTripper {
		return &llmretry.Transport{Base: newBase(), Policy: &llmretry.Policy{MaxRetries: cfg.retries}}
	})},
}

// result is one client's run of one scenario.
type result struct {
	wall                          time.Duration
	requests, ok, failed, limited int
	early                         int
	meanRetryDelay                time.Duration
}

// run sends n requests with w workers through c against srv.
func run(cfg config, n int, c client, srv *llmretrytest.Server) result {
	send := c.make(cfg, srv.URL)
	var next, ok atomic.Int64
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
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				if send(ctx, i) {
					ok.Add(1)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	r := result{wall: time.Since(start), ok: int(ok.Load())}
	r.failed = n - r.ok
	var delays []time.Duration
	for _, q := range srv.Requests() {
		r.requests++
		if q.Status == http.StatusTooManyRequests {
			r.limited++
		}
		if q.Early {
			r.early++
		}
		if q.Attempt > 1 && q.SinceHint > 0 {
			delays = append(delays, q.SinceHint)
		}
	}
	if len(delays) > 0 {
		var sum time.Duration
		for _, d := range delays {
			sum += d
		}
		r.meanRetryDelay = sum / time.Duration(len(delays))
	}
	return r
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 600, "requests in the rate-limit scenario")
	flag.IntVar(&cfg.workers, "w", 64, "concurrent workers")
	flag.Float64Var(&cfg.rate, "rate", 100, "server limit, requests per second")
	flag.IntVar(&cfg.burst, "burst", 10, "server burst")
	flag.IntVar(&cfg.retries, "retries", 4, "max retries for every client")
	only := flag.String("only", "", "run only clients whose name contains this")
	flag.Parse()

	var selected []client
	for _, c := range clients {
		if strings.Contains(c.name, *only) {
			selected = append(selected, c)
		}
	}

	optimum := time.Duration(float64(cfg.n) / cfg.rate * float64(time.Second))
	fmt.Printf("### Rate limit: %d requests, %d workers, server allows %g/s with burst %d (optimum %v), max %d retries\n\n",
		cfg.n, cfg.workers, cfg.rate, cfg.burst, optimum, cfg.retries)
	fmt.Println("| client | wall ÷ optimum | succeeded | failed | 429s received | retries before the advised time |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range selected {
		srv := llmretrytest.NewServer()
		srv.Limit(cfg.rate, cfg.burst, llmretrytest.OpenAI)
		r := run(cfg, cfg.n, c, srv)
		srv.Close()
		fmt.Printf("| %s | %.3f | %d | %d | %d (%.1f%%) | %d |\n", c.name, r.wall.Seconds()/optimum.Seconds(),
			r.ok, r.failed, r.limited, 100*float64(r.limited)/float64(cfg.n), r.early)
	}

	quotaN := 100
	fmt.Printf("\n### Quota exhausted: every answer is 429 quota_exceeded, %d requests (ideal: 1 attempt each)\n\n", quotaN)
	fmt.Println("| client | attempts per request | wall |")
	fmt.Println("|---|---|---|")
	for _, c := range selected {
		srv := llmretrytest.NewServer()
		srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
			return llmretrytest.OpenAI.Error(llmretrytest.ErrorReply{Status: 429, Type: "quota_exceeded", Code: "quota_exceeded",
				Message: "You exceeded your current quota, please check your plan and billing details."})
		})
		r := run(cfg, quotaN, c, srv)
		srv.Close()
		fmt.Printf("| %s | %.2f | %v |\n", c.name, float64(r.requests)/float64(quotaN), r.wall.Round(time.Millisecond))
	}

	overN := cfg.workers
	fmt.Printf("\n### Overload: 503 with Retry-After: 1 once per request, %d requests (ideal: retry 1.000 s later)\n\n", overN)
	fmt.Println("| client | mean delay before the retry | retries before the advised time | succeeded |")
	fmt.Println("|---|---|---|---|")
	for _, c := range selected {
		srv := llmretrytest.NewServer()
		srv.Respond(func(r llmretrytest.Request) llmretrytest.Step {
			if r.Attempt == 1 {
				s := llmretrytest.OpenAI.Overloaded(1)
				return s
			}
			return llmretrytest.Step{}
		})
		r := run(cfg, overN, c, srv)
		srv.Close()
		delay := "no retry"
		if r.meanRetryDelay > 0 {
			delay = fmt.Sprintf("%.3f s", r.meanRetryDelay.Seconds())
		}
		fmt.Printf("| %s | %s | %d | %d |\n", c.name, delay, r.early, r.ok)
	}
}
