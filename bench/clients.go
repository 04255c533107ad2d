package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/llmretry/llmretry"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// limits is what a user who configures llmretry writes for a cell: the
// server's rate and burst as the provider's documentation states them.
type limits struct {
	requestsPerMinute, tokensPerMinute float64
	requestBurst, tokenBurst           int
}

// client sends request i and reports whether it succeeded. Each call of make
// builds a fresh client (its own connections and pacing state).
type client struct {
	name  string
	paces bool // runs apart from the clients that do not (see runMatrix)
	make  func(cfg config, lim limits, baseURL string) func(ctx context.Context, i int) bool
}

// newBase is every client's connection pool, so that none wins by reusing
// connections better.
func newBase() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
}

func httpClient(rt func(cfg config, lim limits) http.RoundTripper, ctxf func(context.Context, config) context.Context) func(config, limits, string) func(context.Context, int) bool {
	return func(cfg config, lim limits, baseURL string) func(context.Context, int) bool {
		c := &http.Client{Transport: rt(cfg, lim)}
		return func(ctx context.Context, i int) bool {
			if ctxf != nil {
				ctx = ctxf(ctx, cfg)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/chat/completions", strings.NewReader(body(i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer sk-bench")
			req.Header.Set(requestHeader, strconv.Itoa(i))
			if cfg.proc != "" {
				req.Header.Set(processHeader, cfg.proc)
			}
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

// prompt and maxTokens make requests of different sizes, the same for every
// client: a prompt of 6 to 240 bytes and max_tokens of 16 to 256.
func prompt(i int) string {
	return fmt.Sprintf("request %d: %s", i, strings.Repeat("lorem ", (i*7)%40))
}
func maxTokens(i int) int { return 16 + (i*53)%241 }
func body(i int) string {
	return fmt.Sprintf(`{"model":"fake-model","messages":[{"role":"user","content":%q}],"max_tokens":%d}`, prompt(i), maxTokens(i))
}

// withRetries gives llmretry the same retry count as the peers without
// touching its zero-config Transport.
func withRetries(ctx context.Context, cfg config) context.Context {
	return llmretry.WithMaxRetries(ctx, cfg.retries)
}

var (
	plain = client{"plain net/http", false, httpClient(func(config, limits) http.RoundTripper { return newBase() }, nil)}

	learned = client{"llmretry, learned", true, httpClient(func(cfg config, _ limits) http.RoundTripper {
		return &llmretry.Transport{Base: newBase(), Observer: cfg.trace.observer()} // zero config
	}, withRetries)}

	configured = client{"llmretry, configured", true, httpClient(func(cfg config, lim limits) http.RoundTripper {
		return &llmretry.Transport{Base: newBase(), Observer: cfg.trace.observer(), Policy: &llmretry.Policy{Limits: llmretry.Limits{
			RequestsPerMinute: lim.requestsPerMinute, RequestBurst: lim.requestBurst,
			TokensPerMinute: lim.tokensPerMinute, TokenBurst: lim.tokenBurst}}}
	}, withRetries)}

	retryablehttpClient = client{"go-retryablehttp", false, httpClient(func(cfg config, _ limits) http.RoundTripper {
		c := retryablehttp.NewClient()
		c.HTTPClient.Transport = newBase()
		c.RetryMax = cfg.retries
		c.Logger = nil
		c.ErrorHandler = retryablehttp.PassthroughErrorHandler
		return &retryablehttp.RoundTripper{Client: c}
	}, nil)}

	failsafeClient = client{"failsafehttp", false, httpClient(func(cfg config, _ limits) http.RoundTripper {
		rp := failsafehttp.NewRetryPolicyBuilder().WithMaxRetries(cfg.retries).ReturnLastFailure().Build()
		return failsafehttp.NewRoundTripper(newBase(), rp)
	}, nil)}

	openaiClient = client{"openai-go", false, func(cfg config, _ limits, baseURL string) func(context.Context, int) bool {
		opts := []option.RequestOption{option.WithBaseURL(baseURL + "/v1/"), option.WithAPIKey("sk-bench"),
			option.WithMaxRetries(cfg.retries), option.WithHTTPClient(&http.Client{Transport: newBase()})}
		if cfg.proc != "" {
			opts = append(opts, option.WithHeader(processHeader, cfg.proc))
		}
		c := openai.NewClient(opts...)
		return func(ctx context.Context, i int) bool {
			_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
				Model:     "fake-model",
				Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt(i))},
				MaxTokens: openai.Int(int64(maxTokens(i))),
			}, option.WithHeader(requestHeader, strconv.Itoa(i)))
			return err == nil
		}
	}}
)

// peers are the clients compared in every scenario.
var peers = []client{learned, configured, retryablehttpClient, failsafeClient, openaiClient}

// selectClients keeps the clients whose name contains only, or one of its
// comma-separated parts.
func selectClients(cs []client, only string) []client {
	var out []client
	for _, c := range cs {
		for _, part := range strings.Split(only, ",") {
			if strings.Contains(c.name, part) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
