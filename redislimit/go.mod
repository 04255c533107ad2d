module github.com/llmretry/llmretry/redislimit

go 1.22

require (
	github.com/llmretry/llmretry v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.17.2
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.7 // indirect
	golang.org/x/time v0.10.0 // indirect
)

replace github.com/llmretry/llmretry => ../
