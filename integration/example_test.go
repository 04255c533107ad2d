package integration_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// openai-go under llmretry: hand the SDK an http.Client whose transport is
// llmretry and turn the SDK's own retries off. A 429 with a wait hint is
// retried after it; the SDK sees the success.
func Example_openai() {
	srv := llmretrytest.NewServer() // stands in for https://api.openai.com
	defer srv.Close()
	srv.Enqueue(llmretrytest.Step{Status: 429, Header: http.Header{"Retry-After-Ms": {"20"}},
		Body: []byte(`{"error":{"type":"requests","code":"rate_limit_exceeded","message":"Rate limit reached"}}`)})

	client := &http.Client{Transport: &llmretry.Transport{}}
	oc := openai.NewClient(option.WithHTTPClient(client), option.WithMaxRetries(0),
		option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("sk-example"))

	res, err := oc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Choices[0].Message.Content, "after", len(srv.Requests()), "attempts")
	// Output: Hello from llmretrytest. after 2 attempts
}

// Under an SDK the final error is the SDK's own; the response it keeps tells
// why llmretry stopped retrying: ParseError of it returns the Transport's
// APIError, with its Decision. Here the server asks for a wait over MaxWait.
func Example_openaiStopReason() {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Step{Status: 429, Header: http.Header{"Retry-After": {"180"}, "X-Request-Id": {"req_123"}},
		Body: []byte(`{"error":{"type":"requests","code":"rate_limit_exceeded","message":"Rate limit reached"}}`)})

	// api.openai.com gets the "openai" policy by its host; the fake server is named here.
	client := &http.Client{Transport: &llmretry.Transport{Policy: llmretry.Provider("openai")}}
	oc := openai.NewClient(option.WithHTTPClient(client), option.WithMaxRetries(0),
		option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("sk-example"))

	_, err := oc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
	})
	var oe *openai.Error
	if errors.As(err, &oe) {
		e := llmretry.ParseError(oe.Response, nil)
		fmt.Println(e.Decision)
		fmt.Println(e)
	}
	// Output:
	// hint_too_long
	// llmretry: openai: 429 rate_limited (requests/rate_limit_exceeded): Rate limit reached [request req_123]: not retried: server asked for 3m0s, over MaxWait 2m0s
}

// anthropic-sdk-go under llmretry, wired the same way: an overloaded answer
// (529) is retried after its hint; the SDK sees the message.
func Example_anthropic() {
	srv := llmretrytest.NewServer() // stands in for https://api.anthropic.com
	defer srv.Close()
	srv.Enqueue(llmretrytest.Step{Status: 529, Header: http.Header{"Retry-After-Ms": {"20"}},
		Body: []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)})

	client := &http.Client{Transport: &llmretry.Transport{}}
	ac := anthropic.NewClient(anthropicoption.WithHTTPClient(client), anthropicoption.WithMaxRetries(0),
		anthropicoption.WithBaseURL(srv.URL), anthropicoption.WithAPIKey("sk-ant-example"))

	msg, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 64,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Content[0].Text, "after", len(srv.Requests()), "attempts")
	// Output: Hello from llmretrytest. after 2 attempts
}
