package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/llmretry/llmretry"
)

// maxRealRequests bounds the workload sent to a real endpoint.
const maxRealRequests = 20

// runReal sends a few chat completions to a real endpoint through llmretry,
// logging every attempt. The API key comes from the environment only.
func runReal(o options, obs *llmretry.Observer) error {
	key := os.Getenv(o.keyEnv)
	if key == "" {
		return fmt.Errorf("set the API key in $%s (it is never taken from a flag)", o.keyEnv)
	}
	if o.model == "" {
		return errors.New("-model is required with -base-url")
	}
	n := min(max(o.n, 1), maxRealRequests)
	if o.n > maxRealRequests {
		fmt.Printf("Sending %d requests, not %d: a real endpoint gets a small workload.\n", n, o.n)
	}
	var pol *llmretry.Policy // nil: routed by host
	if o.fallbackModel != "" {
		pol = llmretry.Provider("generic")
		pol.Fallbacks = []llmretry.Target{{Model: o.fallbackModel}}
		pol.FallbackOnRateLimit = true
	}
	tr := &llmretry.Transport{
		Policy:       pol,
		ReturnErrors: true,
		Observer:     obs,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	client := &http.Client{Transport: tr}
	url := strings.TrimSuffix(o.baseURL, "/") + "/chat/completions"
	failed := 0
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Reply with one word."}],"max_tokens":8}`, o.model)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		start := time.Now()
		resp, err := client.Do(req)
		var apiErr *llmretry.APIError
		switch {
		case errors.As(err, &apiErr):
			failed++
			fmt.Printf("request %d: %v\n", i+1, apiErr)
		case err != nil:
			failed++
			fmt.Printf("request %d: %v\n", i+1, err)
		default:
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			var answer struct{ Model string }
			json.Unmarshal(b, &answer)
			fmt.Printf("request %d: %s in %v, %d bytes, answered by %q\n", i+1, resp.Status, time.Since(start).Round(time.Millisecond), len(b), answer.Model)
		}
		cancel()
	}
	fmt.Printf("%d of %d succeeded\n", n-failed, n)
	return nil
}
