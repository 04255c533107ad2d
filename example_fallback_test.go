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

// A policy's Fallbacks take over when a model is overloaded: here GPT-Gob's
// 503 horde_unavailable ("Specific model tier overloaded — try a different
// one") sends the request to gob-small at once. The answer names the model
// that answered.
func ExampleTarget() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.EchoModel()
	srv.EnqueueModel("gob-large", llmretrytest.GPTGob.Overloaded(5))

	gob := llmretry.GPTGob()
	gob.Fallbacks = []llmretry.Target{{Model: "gob-small"}}
	client := &http.Client{Transport: &llmretry.Transport{
		Policy: gob,
		OnAttempt: func(a llmretry.AttemptInfo) {
			fmt.Printf("attempt %d (target %q): %s → %s\n", a.Attempt, a.Target, a.Verdict.Class, a.Decision)
		},
	}}

	resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gob-large","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct{ Model string }
	json.NewDecoder(resp.Body).Decode(&answer)
	fmt.Println("answered by", answer.Model)
	// Output:
	// attempt 1 (target ""): model_overloaded → fallback
	// attempt 2 (target "gob-small"): ok → success
	// answered by gob-small
}

// A stream whose first event is an error is retried before the caller sees
// it; the caller reads the stream of the retry, byte for byte. The
// first-token timeout bounds how long each attempt may wait for that first
// event: a stream that stalls before it is cut off and retried too.
func ExampleWithFirstTokenTimeout() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.GPTGob.AbortedStream(0)) // data: {"error":{"code":"goblin_distracted",…}}

	gob := llmretry.GPTGob()
	gob.BaseDelay = 10 * time.Millisecond // quick retries for the example
	client := &http.Client{Transport: &llmretry.Transport{Policy: gob,
		OnAttempt: func(a llmretry.AttemptInfo) { fmt.Println(a.Verdict.Class, a.Verdict.Code, a.Decision) }}}
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
	// server_error goblin_distracted retry
	// ok  success
	// true
}
