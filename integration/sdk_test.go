package integration

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"
)

// Each SDK is wired up as the README and docs/sdks.md show, with the SDK's own retries off
// where it has any (they would multiply with ours).

func TestOpenAIGo(t *testing.T) {
	t.Parallel()
	newClient := func(url string, hc option.HTTPClient) openai.Client {
		return openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("sk-test"),
			option.WithHTTPClient(hc), option.WithMaxRetries(0))
	}
	params := openai.ChatCompletionNewParams{Model: "fake-model", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}

	t.Run("429 with retry_after, then success", func(t *testing.T) {
		t.Parallel()
		srv, hc, _ := setup(t)
		srv.Enqueue(rateLimited(llmretrytest.Dialect("openai")))
		c := newClient(srv.URL, hc)
		res, err := c.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Choices[0].Message.Content; got != "Hello from llmretrytest." || len(srv.Requests()) != 2 {
			t.Errorf("content %q after %d requests, want the completion after one retry", got, len(srv.Requests()))
		}
	})
	t.Run("quota error is not retried and reaches the SDK as *openai.Error", func(t *testing.T) {
		t.Parallel()
		srv, hc, _ := setup(t)
		quota := llmretrytest.Dialect("openai").QuotaExhausted()
		srv.Enqueue(quota)
		c := newClient(srv.URL, hc)
		_, err := c.Chat.Completions.New(context.Background(), params)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want *openai.Error", err)
		}
		if apiErr.StatusCode != 429 || apiErr.Code != "insufficient_quota" || apiErr.RawJSON() != `{"code":"insufficient_quota","message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota"}` {
			t.Errorf("SDK error: %d %q %s", apiErr.StatusCode, apiErr.Code, apiErr.RawJSON())
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("streaming passes through byte-identical", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec := setup(t)
		c := newClient(srv.URL, hc)
		stream := c.Chat.Completions.NewStreaming(context.Background(), params)
		var text strings.Builder
		for stream.Next() {
			if ch := stream.Current().Choices; len(ch) > 0 {
				text.WriteString(ch[0].Delta.Content)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		stream.Close()
		if text.String() != "Hello from llmretrytest." || rec.last() != llmretrytest.Stream {
			t.Errorf("text %q; bytes identical: %v", text.String(), rec.last() == llmretrytest.Stream)
		}
	})
}

// TestOpenAIGoNeverWorse ports the reproducers of issue 20's attack
// (findings 4 and 6): answers that openai-go alone retries and gets through,
// which llmretry under it (the SDK's retries off) returned at once. Each
// runs under the generic policy (what 127.0.0.1, a proxy, gets) and under
// Provider("openai") (what api.openai.com gets).
func TestOpenAIGoNeverWorse(t *testing.T) {
	t.Parallel()
	params := openai.ChatCompletionNewParams{Model: "fake-model", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}
	jsonHeader := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	const rl = `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	tests := []struct {
		name  string
		first llmretrytest.Step
	}{
		// A reset is a counter's claim, not a wait asked for: a far one is
		// retried on the backoff, as openai-go (which ignores resets) does.
		{"429 with an hourly X-RateLimit-Reset only", llmretrytest.Step{Status: 429,
			Header: jsonHeader("X-RateLimit-Limit", "1000", "X-RateLimit-Reset", "3600"), Body: []byte(rl)}},
		{"429 with reset-requests 6m0s, remaining 0", llmretrytest.Step{Status: 429,
			Header: jsonHeader("x-ratelimit-limit-requests", "10000", "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "6m0s"), Body: []byte(rl)}},
		// openai-go: "res.StatusCode == http.StatusConflict" is retried.
		{"409 with a conflict code", llmretrytest.Step{Status: 409, Header: jsonHeader(),
			Body: []byte(`{"error":{"message":"conflict","type":"conflict","code":"conflict"}}`)}},
	}
	for _, tt := range tests {
		for _, pol := range []string{"", "openai"} {
			t.Run(tt.name+"/policy="+pol, func(t *testing.T) {
				t.Parallel()
				srv := llmretrytest.Start(t)
				base := &http.Transport{}
				t.Cleanup(base.CloseIdleConnections)
				tr := &llmretry.Transport{Base: base}
				if pol != "" {
					tr.Policy = llmretry.Provider(pol)
				}
				c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("sk-test"),
					option.WithHTTPClient(&http.Client{Transport: tr}), option.WithMaxRetries(0))
				srv.Enqueue(tt.first)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, err := c.Chat.Completions.New(ctx, params); err != nil {
					t.Fatalf("%v after %d request(s); the server answers the retry", err, len(srv.Requests()))
				}
				if n := len(srv.Requests()); n != 2 {
					t.Errorf("%d requests, want 2", n)
				}
			})
		}
	}
}

func TestGoOpenAI(t *testing.T) {
	t.Parallel()
	newClient := func(url string, hc *http.Client) *goopenai.Client {
		cfg := goopenai.DefaultConfig("sk-test")
		cfg.BaseURL = url + "/v1"
		cfg.HTTPClient = hc
		return goopenai.NewClientWithConfig(cfg)
	}
	req := goopenai.ChatCompletionRequest{Model: "fake-model", Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}}}

	t.Run("429 with retry_after, then success", func(t *testing.T) {
		t.Parallel()
		srv, hc, _ := setup(t)
		srv.Enqueue(rateLimited(llmretrytest.Dialect("openai")))
		res, err := newClient(srv.URL, hc).CreateChatCompletion(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Choices[0].Message.Content; got != "Hello from llmretrytest." || len(srv.Requests()) != 2 {
			t.Errorf("content %q after %d requests, want the completion after one retry", got, len(srv.Requests()))
		}
	})
	t.Run("quota error is not retried and reaches the SDK as *openai.APIError", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec := setup(t)
		srv.Enqueue(llmretrytest.Dialect("openai").QuotaExhausted())
		_, err := newClient(srv.URL, hc).CreateChatCompletion(context.Background(), req)
		var apiErr *goopenai.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want *openai.APIError", err)
		}
		if apiErr.HTTPStatusCode != 429 || apiErr.Code != "insufficient_quota" || apiErr.Type != "insufficient_quota" {
			t.Errorf("SDK error: %+v", apiErr)
		}
		if n := len(srv.Requests()); n != 1 || rec.last() != string(llmretrytest.Dialect("openai").QuotaExhausted().Body) {
			t.Errorf("%d requests (want 1); body the SDK read: %s", n, rec.last())
		}
	})
	t.Run("streaming passes through byte-identical", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec := setup(t)
		sreq := req
		sreq.Stream = true
		stream, err := newClient(srv.URL, hc).CreateChatCompletionStream(context.Background(), sreq)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		var text strings.Builder
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(chunk.Choices) > 0 {
				text.WriteString(chunk.Choices[0].Delta.Content)
			}
		}
		if text.String() != "Hello from llmretrytest." || rec.last() != llmretrytest.Stream {
			t.Errorf("text %q; bytes identical: %v", text.String(), rec.last() == llmretrytest.Stream)
		}
	})
}

func TestAnthropicSDK(t *testing.T) {
	t.Parallel()
	newClient := func(url string, hc anthropicoption.HTTPClient) anthropic.Client {
		return anthropic.NewClient(anthropicoption.WithBaseURL(url), anthropicoption.WithAPIKey("sk-ant-test"),
			anthropicoption.WithHTTPClient(hc), anthropicoption.WithMaxRetries(0))
	}
	params := anthropic.MessageNewParams{Model: "fake-model", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}}

	t.Run("429 with retry_after, then success", func(t *testing.T) {
		t.Parallel()
		srv, hc, _ := setup(t)
		srv.Enqueue(rateLimited(llmretrytest.Dialect("anthropic")))
		c := newClient(srv.URL, hc)
		msg, err := c.Messages.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Content[0].Text; got != "Hello from llmretrytest." || len(srv.Requests()) != 2 {
			t.Errorf("content %q after %d requests, want the message after one retry", got, len(srv.Requests()))
		}
	})
	t.Run("quota error is not retried and reaches the SDK as *anthropic.Error", func(t *testing.T) {
		t.Parallel()
		srv, hc, _ := setup(t)
		quota := llmretrytest.Dialect("anthropic").QuotaExhausted()
		srv.Enqueue(quota)
		c := newClient(srv.URL, hc)
		_, err := c.Messages.New(context.Background(), params)
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want *anthropic.Error", err)
		}
		if apiErr.StatusCode != 400 || apiErr.RawJSON() != string(quota.Body) {
			t.Errorf("SDK error: %d %s", apiErr.StatusCode, apiErr.RawJSON())
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("streaming passes through byte-identical", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec := setup(t)
		c := newClient(srv.URL, hc)
		stream := c.Messages.NewStreaming(context.Background(), params)
		var text strings.Builder
		for stream.Next() {
			if ev := stream.Current(); ev.Type == "content_block_delta" {
				text.WriteString(ev.Delta.Text)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		stream.Close()
		if text.String() != "Hello from llmretrytest." || rec.last() != llmretrytest.MessageStream {
			t.Errorf("text %q; bytes identical: %v", text.String(), rec.last() == llmretrytest.MessageStream)
		}
	})
}
