package llmretry

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/llmretry/llmretry/llmretrytest"
)

func TestRetryableHTTPAdapters(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	tests := []struct {
		name       string
		script     []llmretrytest.Step
		wantStatus int
		wantTries  int
	}{
		{"rate limited then success", []llmretrytest.Step{{Status: 429, Header: http.Header{"Retry-After-Ms": {"5"}},
			Body: []byte(`{"error":{"type":"rate_limit_exceeded","code":"too_many_tokens"}}`)}}, 200, 2},
		{"quota is not retried", []llmretrytest.Step{gob.QuotaExhausted()}, 429, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := llmretrytest.Start(t)
			srv.Enqueue(tt.script...)
			c := retryablehttp.NewClient()
			c.Logger = nil
			c.RetryMax = 2
			c.CheckRetry = RetryablehttpCheckRetry(gptGobPolicy())
			c.Backoff = RetryablehttpBackoff(&Policy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
			c.ErrorHandler = retryablehttp.PassthroughErrorHandler
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader(chatBody))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || len(srv.Requests()) != tt.wantTries {
				t.Errorf("got %d after %d attempts, want %d after %d", resp.StatusCode, len(srv.Requests()), tt.wantStatus, tt.wantTries)
			}
			if tt.wantStatus == 429 && !strings.Contains(string(body), "no_treasure_in_hoard") {
				t.Errorf("body = %q, want the provider's error body intact", body)
			}
		})
	}
}

func TestBackoffAdapterHonorsHints(t *testing.T) {
	t.Parallel()
	b := RetryablehttpBackoff(gptGobPolicy())
	resp := response(429, nil, `{"error":{"type":"rate_limit_exceeded","retry_after":12}}`)
	if got := b(0, 0, 0, resp); got != 12*time.Second {
		t.Errorf("wait = %v, want the body's 12s", got)
	}
	resp = response(429, http.Header{"Retry-After": {"3600"}}, ``)
	if got := b(0, 0, 0, resp); got != defaultMaxWait {
		t.Errorf("wait = %v, want it capped at MaxWait %v", got, defaultMaxWait)
	}
	// An hourly reset is a counter's claim, not a wait asked for: the
	// backoff (1 s base, equal jitter: within [0.5s, 1s]), not MaxWait.
	resp = response(429, http.Header{"X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Reset": {"3600"}}, `{"error":{"type":"rate_limit_exceeded"}}`)
	if got := b(0, 0, 0, resp); got < 500*time.Millisecond || got > time.Second {
		t.Errorf("wait after a reset of an hour = %v, want the first backoff, within [0.5s, 1s]", got)
	}
	// GPT-Gob: 1 s base; the second retry's step is 2 s, equal jitter keeps it in [1s, 2s].
	if got := b(0, 0, 1, nil); got < time.Second || got > 2*time.Second {
		t.Errorf("second retry without hint waits %v, want within [1s, 2s]", got)
	}
}
