package llmretry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// Wrap http.DefaultTransport (the zero Transport does) and use the client as
// usual: a 429 with a wait hint is retried after the hint, and the caller
// sees the success.
func Example() {
	srv := llmretrytest.NewServer() // stands in for https://api.example.com
	defer srv.Close()
	srv.Enqueue(llmretrytest.Step{Status: 429, Header: http.Header{"Retry-After-Ms": {"20"}},
		Body: []byte(`{"error":{"type":"requests","code":"rate_limit_exceeded","message":"slow down"}}`)})

	client := &http.Client{Transport: &llmretry.Transport{}}

	resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode, "after", len(srv.Requests()), "attempts")
	// Output: 200 after 2 attempts
}

// One Transport serves several providers, each with its own policy, chosen by
// the request's host: api.openai.com, api.anthropic.com and the other
// well-known hosts need no route; a proxy or a provider without a well-known
// host gets one.
func ExampleTransport_hosts() {
	openai := llmretry.Provider("openai")
	openai.MaxRetries = 4 // derive from a built-in policy and change what you need

	client := &http.Client{Transport: &llmretry.Transport{
		Hosts: map[string]*llmretry.Policy{
			"llm-proxy.internal.example": openai, // an OpenAI-compatible proxy
			"api.cencori.example":        llmretry.Provider("cencori"),
		},
	}}
	_ = client
	fmt.Println(openai.Name, openai.MaxRetries)
	// Output: openai 4
}

// Self-hosted servers (vLLM, TGI, Ollama) have no well-known host: route
// each by its host name, beside the built-in routes of the hosted APIs.
func ExampleTransport_selfHosted() {
	tr := &llmretry.Transport{Hosts: map[string]*llmretry.Policy{
		"localhost":     llmretry.Provider("ollama"), // http://localhost:11434, any port
		"gpu1.internal": llmretry.Provider("vllm"),
		"tgi.internal":  llmretry.Provider("tgi"),
	}}
	client := &http.Client{Transport: tr}
	_ = client
	fmt.Println(tr.Hosts["gpu1.internal"].Name)
	// Output: vllm
}

// Per-request overrides travel in the request's context.
func ExampleWithMaxRetries() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError())

	client := &http.Client{Transport: &llmretry.Transport{}}
	ctx := llmretry.WithMaxRetries(context.Background(), 0) // 0: no retry
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{}`))
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "after", len(srv.Requests()), "attempt")
	// Output: 500 after 1 attempt
}

// With ReturnErrors, a final error response comes back as an *APIError that
// says what went wrong, whether waiting would help, and why the Transport
// stopped.
func ExampleAPIError() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Dialect("openai").QuotaExhausted()) // 429 insufficient_quota

	client := &http.Client{Transport: &llmretry.Transport{Policy: llmretry.Provider("openai"), ReturnErrors: true}}
	_, err := client.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{}`))

	var apiErr *llmretry.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Class, apiErr.Code, apiErr.Retryable, apiErr.Decision)
	}
	// Output: 429 quota_exhausted insufficient_quota false not_retryable
}

// ParseError reads an error response that the Transport returned (after its
// retries), without consuming the body, for code that works with responses.
func ExampleParseError() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Dialect("cencori").Error(llmretrytest.ErrorReply{Status: 403, Code: "SECURITY_VIOLATION", Message: "Request blocked due to security filters."}))

	client := &http.Client{Transport: &llmretry.Transport{Policy: llmretry.Provider("cencori")}}
	resp, err := client.Post(srv.URL+"/api/ai/chat", "application/json", strings.NewReader(`{}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if e := llmretry.ParseError(resp, llmretry.Provider("cencori")); e != nil {
		fmt.Println(e.Class, e.Message)
	}
	body, _ := io.ReadAll(resp.Body) // still all there
	fmt.Println(len(body) > 0)
	// Output:
	// content_filtered Request blocked due to security filters.
	// true
}

// An Observer's AttemptEnd sees every attempt: its class, the server's hint
// and what the Transport does next. It never sees a credential.
func ExampleObserver() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Step{Status: 503, Header: http.Header{"Retry-After-Ms": {"10"}}}, llmretrytest.Dialect("openai").QuotaExhausted())

	client := &http.Client{Transport: &llmretry.Transport{
		Policy: llmretry.Provider("openai"),
		Observer: &llmretry.Observer{AttemptEnd: func(a llmretry.AttemptInfo, _ *http.Response) {
			fmt.Printf("%d %d %s hint=%q %s\n", a.Attempt, a.Verdict.Status, a.Verdict.Class, a.Verdict.Hint, a.Decision)
		}},
	}}
	resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	// Output:
	// 1 503 overloaded hint="retry-after-ms" retry
	// 2 429 quota_exhausted hint="" not_retryable
}

// Limits pace requests client-side so that they do not earn 429s: here 600
// requests a minute with bursts of 2, per API key.
func ExampleLimits() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.SetLimit(llmretrytest.Style("openai").Spec(llmretrytest.Requests, 10, 2)) // the provider allows 10/s, burst 2

	p := llmretry.Provider("generic")
	p.Limits = llmretry.Limits{RequestsPerMinute: 600, RequestBurst: 2}
	client := &http.Client{Transport: &llmretry.Transport{Policy: p}}
	for i := 0; i < 6; i++ {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer sk-example")
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	limited := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	fmt.Println(len(srv.Requests()), "requests,", limited, "rate-limited")
	// Output: 6 requests, 0 rate-limited
}

// Classify reads each provider's own error format: Google's RetryInfo gives
// the wait, and a per-day quota is not retried even though Google attaches a
// RetryInfo to it.
func ExamplePolicy_Classify() {
	classify := func(status int, header http.Header, body string) {
		resp := &http.Response{StatusCode: status, Header: header, ContentLength: -1, Body: io.NopCloser(strings.NewReader(body))}
		v := llmretry.Provider("gemini").Classify(resp, nil)
		fmt.Println(v.Class, v.Retryable, v.RetryAfter, v.Hint)
	}
	classify(429, http.Header{}, `{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED",
		"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.837906927s"}]}}`)
	classify(429, http.Header{}, `{"error":{"code":429,"message":"You exceeded your current quota","status":"RESOURCE_EXHAUSTED",
		"details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
		{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}`)
	// Bedrock names the error in a header over a bare message.
	resp := &http.Response{StatusCode: 429, ContentLength: -1, Header: http.Header{"X-Amzn-Errortype": {"ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
		Body: io.NopCloser(strings.NewReader(`{"message":"Too many requests, please wait before trying again."}`))}
	v := llmretry.Provider("bedrock").Classify(resp, nil)
	fmt.Println(v.Class, v.Retryable, v.Code)
	// Output:
	// rate_limited true 1.837906927s body
	// quota_exhausted false 37s body
	// rate_limited true ThrottlingException
}
