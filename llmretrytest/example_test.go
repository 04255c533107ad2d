package llmretrytest_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// A server that limits each API key to 2 requests per second in fixed
// one-second windows, announced GitHub-style on every answer, with a bare
// 429 when the window is used up. The clock is fixed so that the output is
// too; without Clock the server runs on real time.
func ExampleServer_SetLimit() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	now := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	srv.SetLimit(llmretrytest.LimitSpec{
		Quotas:  []llmretrytest.Quota{llmretrytest.Window(llmretrytest.Requests, 2, time.Second)},
		Headers: llmretrytest.XRateLimitHeaders,
		Reset:   llmretrytest.ResetUnix,
		Clock:   func() time.Time { return now },
	})
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"max_tokens":16}`))
		req.Header.Set("Authorization", "Bearer sk-test")
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%d remaining=%s reset=%s retry-after=%q\n", resp.StatusCode,
			resp.Header.Get("X-Ratelimit-Remaining"), resp.Header.Get("X-Ratelimit-Reset"), resp.Header.Get("Retry-After"))
	}
	admitted, refused := srv.LimitCounts()
	fmt.Println(admitted, "admitted,", refused, "refused")
	// Output:
	// 200 remaining=1 reset=1796151601 retry-after=""
	// 200 remaining=0 reset=1796151601 retry-after=""
	// 429 remaining=0 reset=1796151601 retry-after=""
	// 2 admitted, 1 refused
}

// A named style reproduces how a real provider announces its limit; here
// Anthropic's headers and retry-after on a token bucket of 10 requests
// refilled at 100 per second.
func ExampleStyleNamed() {
	st, _ := llmretrytest.StyleNamed("anthropic")
	spec := st.Spec(llmretrytest.Requests, 100, 10)
	fmt.Println(spec.Quotas[0].Limit, spec.Quotas[0].Per, spec.Headers == llmretrytest.AnthropicHeaders, spec.Hints == llmretrytest.RetryAfter)
	var names []string
	for _, s := range llmretrytest.Styles() {
		names = append(names, s.Name)
	}
	fmt.Println(strings.Join(names, " "))
	// Output:
	// 10 100ms true true
	// openai groq retry-after retry-after-ms bare github cencori unix-ms rfc3339 cerebras anthropic inexact window-over-bucket
}
