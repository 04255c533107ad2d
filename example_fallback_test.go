package llmretry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// A policy's Fallbacks take over when a model is overloaded: here a 503
// service_unavailable for gpt-4o sends the request to gpt-4o-mini at once,
// without waiting out its Retry-After. The answer names the model that
// answered.
func ExampleTarget() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.EchoModel()
	srv.EnqueueModel("gpt-4o", llmretrytest.Dialect("openai").Overloaded(5))

	p := llmretry.Provider("openai")
	p.Fallbacks = []llmretry.Target{{Model: "gpt-4o-mini"}}
	client := &http.Client{Transport: &llmretry.Transport{
		Policy: p,
		Observer: &llmretry.Observer{AttemptEnd: func(a llmretry.AttemptInfo, _ *http.Response) {
			fmt.Printf("attempt %d (target %q): %s → %s\n", a.Attempt, a.Target, a.Verdict.Class, a.Decision)
		}},
	}}

	resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct{ Model string }
	json.NewDecoder(resp.Body).Decode(&answer)
	fmt.Println("answered by", answer.Model)
	// Output:
	// attempt 1 (target ""): overloaded → fallback
	// attempt 2 (target "gpt-4o-mini"): ok → success
	// answered by gpt-4o-mini
}

// A stream whose first event is an error is retried before the caller sees
// it; the caller reads the stream of the retry, byte for byte. The
// first-token timeout bounds how long each attempt may wait for that first
// event: a stream that stalls before it is cut off and retried too.
func ExampleWithFirstTokenTimeout() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Dialect("openai").AbortedStream(0)) // data: {"error":{"type":"server_error",…}}

	p := llmretry.Provider("openai")
	p.BaseDelay = 10 * time.Millisecond // quick retries for the example
	client := &http.Client{Transport: &llmretry.Transport{Policy: p,
		Observer: &llmretry.Observer{AttemptEnd: func(a llmretry.AttemptInfo, _ *http.Response) {
			fmt.Println(a.Verdict.Class, a.Verdict.Code, a.Decision)
		}}}}
	ctx := llmretry.WithFirstTokenTimeout(context.Background(), 10*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":true}`))
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b) == llmretrytest.Stream)
	// Output:
	// server_error internal_error retry
	// ok  success
	// true
}
