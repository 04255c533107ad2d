package llmretry_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// WithoutFallback keeps one request on its own target even when its policy
// has fallbacks; with WithMaxRetries(ctx, 0) beside it, the request is sent
// exactly once, and the overloaded answer comes back as it is.
func ExampleWithoutFallback() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.EnqueueModel("gpt-4o", llmretrytest.Dialect("openai").Overloaded(5))

	p := llmretry.Provider("openai")
	p.Fallbacks = []llmretry.Target{{Model: "gpt-4o-mini"}}
	client := &http.Client{Transport: &llmretry.Transport{Policy: p}}

	ctx := llmretry.WithoutFallback(llmretry.WithMaxRetries(context.Background(), 0))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`))
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "from", srv.Requests()[0].Model, "after", len(srv.Requests()), "attempt")
	// Output: 503 from gpt-4o after 1 attempt
}

// WithAttemptTimeout bounds each attempt of one request: an attempt whose
// answer does not come in time is cut off and retried, within the request's
// own deadline.
func ExampleWithAttemptTimeout() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Step{Delay: time.Minute}) // a hung answer; the next one is quick

	client := &http.Client{Transport: &llmretry.Transport{
		Observer: &llmretry.Observer{AttemptEnd: func(a llmretry.AttemptInfo, _ *http.Response) {
			fmt.Printf("attempt %d: %s → %s\n", a.Attempt, a.Verdict.Class, a.Decision)
		}},
	}}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = llmretry.WithAttemptTimeout(ctx, time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`))
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// attempt 1: timeout → retry
	// attempt 2: ok → success
	// 200
}
