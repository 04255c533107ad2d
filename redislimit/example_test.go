package redislimit_test

import (
	"log"
	"net/http"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/redislimit"
	"github.com/redis/go-redis/v9"
)

// Every process of a fleet that shares one OpenAI key paces its requests
// against the same Redis, so that together they stay under the key's 500
// requests and 200,000 tokens a minute. While Redis is unreachable each
// process paces on its own, and OnError says so. (It needs a Redis server,
// so it is not run.)
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	limiter := redislimit.New(rdb, redislimit.Options{
		OnError: func(err error) { log.Printf("pacing without Redis: %v", err) },
	})

	p := llmretry.Provider("openai")
	p.Limits = llmretry.Limits{RequestsPerMinute: 500, TokensPerMinute: 200_000, Limiter: limiter}
	client := &http.Client{Transport: &llmretry.Transport{
		Hosts: map[string]*llmretry.Policy{"api.openai.com": p},
	}}
	_ = client // use it, or hand it to an SDK, as usual
}
