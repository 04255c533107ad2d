package llmretrytest_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// post sends a chat completion request with an API key, as a client would.
func post(srv *llmretrytest.Server, body string) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	return resp
}

// Script the answers: the first request gets OpenAI's 429 with a wait of
// one second, the next its 503, and every later one a chat completion. The log
// shows what the client sent: a client that retries sends the same body
// again, which the log counts as attempts of one request.
func Example() {
	srv := llmretrytest.NewServer() // in a test: llmretrytest.Start(t)
	defer srv.Close()
	srv.Enqueue(llmretrytest.Dialect("openai").RateLimit(1), llmretrytest.Dialect("openai").Overloaded(0))
	for i := 0; i < 3; i++ {
		resp := post(srv, `{"model":"gob-small","messages":[{"role":"user","content":"hi"}]}`)
		fmt.Printf("%d retry-after=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Seq, r.Model, "attempt", r.Attempt, "answered", r.Status)
	}
	// Output:
	// 429 retry-after="1"
	// 503 retry-after=""
	// 200 retry-after=""
	// 1 gob-small attempt 1 answered 429
	// 2 gob-small attempt 2 answered 503
	// 3 gob-small attempt 3 answered 200
}

// A Dialect writes an error the way one provider does; here Anthropic's
// 429. ErrorReply and Dialect.Error write any other error in that format.
func ExampleDialect() {
	st := llmretrytest.Dialect("anthropic").RateLimit(2)
	fmt.Println(st.Status, st.Header.Get("Retry-After"))
	fmt.Println(string(st.Body))
	// Output:
	// 429 2
	// {"error":{"message":"Number of requests has exceeded your rate limit.","type":"rate_limit_error"},"type":"error"}
}

// A server that limits each API key to 2 requests per second in fixed
// one-second windows, announced GitHub-style on every answer, with a bare
// 429 when the window is used up. The clock is fixed so that the output is
// too; without Clock the server runs on real time.
func ExampleServer_SetLimit() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	now := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	spec := llmretrytest.Style("github").Spec(llmretrytest.Requests, 2, 2)
	spec.Clock = func() time.Time { return now }
	srv.SetLimit(spec)
	for i := 0; i < 3; i++ {
		resp := post(srv, `{"max_tokens":16}`)
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

// A Style reproduces how a real provider announces its limit; here
// Anthropic's headers and retry-after on a token bucket of 10 requests
// refilled at 100 per second. Quotas can be replaced to model another
// limit announced the same way.
func ExampleStyle() {
	spec := llmretrytest.Style("anthropic").Spec(llmretrytest.Requests, 100, 10)
	fmt.Println(spec.Quotas[0].Unit, spec.Quotas[0].Limit, spec.Quotas[0].Per, spec.Dialect)
	fmt.Println(llmretrytest.Styles())
	// Output:
	// requests 10 100ms anthropic
	// [openai groq retry-after retry-after-ms bare github cencori unix-ms rfc3339 cerebras anthropic inexact window-over-bucket]
}

// A limit on tokens counts each request's prompt and max_tokens, as
// providers do, estimated as the client's llmretry.EstimateTokens does.
func ExampleRequestTokens() {
	in, out := llmretrytest.RequestTokens([]byte(`{"messages":[{"role":"user","content":"abcdefgh"}],"max_tokens":54}`))
	fmt.Println(in, out)
	// Output:
	// 6 54
}
