package integration

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestStopReasonUnderSDKs checks that a user under each SDK can learn why
// llmretry stopped retrying (here: a Retry-After over MaxWait): with
// ReturnErrors, errors.As finds the *llmretry.APIError through the SDK's
// error; without it (the default), the SDK's error keeps the response, and
// llmretry.ParseError of it gives the Transport's APIError.
func TestStopReasonUnderSDKs(t *testing.T) {
	t.Parallel()
	openaiCall := func(ctx context.Context, url string, hc *http.Client) (*http.Response, error) {
		c := openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("sk-test"),
			option.WithHTTPClient(hc), option.WithMaxRetries(0))
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "fake-model",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}})
		var se *openai.Error
		if errors.As(err, &se) {
			return se.Response, err
		}
		return nil, err
	}
	anthropicCall := func(ctx context.Context, url string, hc *http.Client) (*http.Response, error) {
		c := anthropic.NewClient(anthropicoption.WithBaseURL(url), anthropicoption.WithAPIKey("sk-ant-test"),
			anthropicoption.WithHTTPClient(hc), anthropicoption.WithMaxRetries(0))
		_, err := c.Messages.New(ctx, anthropic.MessageNewParams{Model: "fake-model", MaxTokens: 64,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}})
		var se *anthropic.Error
		if errors.As(err, &se) {
			return se.Response, err
		}
		return nil, err
	}
	tests := []struct {
		sdk     string
		dialect llmretrytest.Dialect
		call    func(context.Context, string, *http.Client) (*http.Response, error)
	}{
		{"openai-go", llmretrytest.Dialect("openai"), openaiCall},
		{"anthropic-sdk-go", llmretrytest.Dialect("anthropic"), anthropicCall},
	}
	const want = "not retried: server asked for 3m0s, over MaxWait 2m0s"
	for _, tt := range tests {
		for _, returnErrors := range []bool{true, false} {
			name := tt.sdk + "/ReturnErrors=false"
			if returnErrors {
				name = tt.sdk + "/ReturnErrors=true"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv := llmretrytest.Start(t)
				base := &http.Transport{}
				t.Cleanup(base.CloseIdleConnections)
				hc := &http.Client{Transport: &llmretry.Transport{Base: base, ReturnErrors: returnErrors}}
				srv.Enqueue(tt.dialect.RateLimit(180)) // over MaxWait, 2 min
				resp, err := tt.call(context.Background(), srv.URL, hc)
				var apiErr *llmretry.APIError
				if returnErrors {
					if !errors.As(err, &apiErr) {
						t.Fatalf("err = %T %v, want one that errors.As finds an *llmretry.APIError in", err, err)
					}
				} else {
					if resp == nil {
						t.Fatalf("err = %T %v, want the SDK's error with the response", err, err)
					}
					if apiErr = llmretry.ParseError(resp, nil); apiErr == nil {
						t.Fatal("ParseError of the SDK error's response = nil")
					}
				}
				if apiErr.Decision != llmretry.DecisionHintTooLong || apiErr.Status != 429 || !strings.HasSuffix(apiErr.Error(), want) {
					t.Errorf("APIError: Stop %v, status %d, %q; want hint_too_long, 429, ending %q", apiErr.Decision, apiErr.Status, apiErr.Error(), want)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Errorf("%d requests, want 1", n)
				}
			})
		}
	}
}
