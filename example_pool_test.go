package llmretry_test

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// A policy's Pool spreads requests over equivalent targets, here two
// deployments of one model, each with its own key. Each attempt goes to the
// target that can send it soonest; an overloaded answer on one is retried at
// once on the other, and the overloaded one cools down for a moment.
func ExamplePolicy_pool() {
	east, west := llmretrytest.NewServer(), llmretrytest.NewServer()
	defer east.Close()
	defer west.Close()
	east.Enqueue(llmretrytest.Dialect("openai").Overloaded(5)) // 503, Retry-After: 5

	p := llmretry.Provider("openai")
	p.Pool = []llmretry.Target{
		{Name: "east", BaseURL: east.URL + "/v1", StripPrefix: "/v1",
			Header: http.Header{"Authorization": {"Bearer " + os.Getenv("EAST_KEY")}}},
		{Name: "west", BaseURL: west.URL + "/v1", StripPrefix: "/v1",
			Header: http.Header{"Authorization": {"Bearer " + os.Getenv("WEST_KEY")}}},
	}
	client := &http.Client{Transport: &llmretry.Transport{
		Policy: p,
		Observer: &llmretry.Observer{AttemptEnd: func(a llmretry.AttemptInfo, _ *http.Response) {
			fmt.Printf("attempt %d (target %q): %s → %s after %v\n", a.Attempt, a.Target, a.Verdict.Class, a.Decision, a.Wait)
		}},
	}}

	// The request's own URL is only the path: every attempt goes to a target of the pool.
	resp, err := client.Post("https://deployments.invalid/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// attempt 1 (target "east"): overloaded → retry after 0s
	// attempt 2 (target "west"): ok → success after 0s
	// 200 OK
}
