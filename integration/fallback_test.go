package integration

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"
)

// The reference lines that these tests hold llmretry to, under each SDK,
// streaming and not:
//
//   - gptgob.md, 503 horde_unavailable: "Specific model tier overloaded — try
//     a different one": the request goes to the fallback model.
//   - cencori.md, 503 PROVIDER_ERROR: "Retry after a delay or try a different
//     model/provider": the request goes to the fallback model.
//   - gptgob.md, goblin_distracted: "Generation aborted mid-stream. Retry.":
//     retried, also when it comes as a stream's first event; after the first
//     token the stream reaches the SDK as it came.

const (
	busy  = "gob-large"
	spare = "gob-small"
)

// reference is one reference line: the answer that the busy model gives, and
// what should follow.
type reference struct {
	name     string
	policy   string // the built-in policy's name, for llmretry.Provider
	step     func(stream bool, anthropic bool) llmretrytest.Step
	fallback bool // the spare model answers; else the busy model answers on retry
}

func references() []reference {
	gob, cen, anth := llmretrytest.Dialect("gptgob"), llmretrytest.Dialect("cencori"), llmretrytest.Dialect("anthropic")
	return []reference{
		{"gptgob horde_unavailable (503)", "gptgob", func(bool, bool) llmretrytest.Step { return gob.Overloaded(1) }, true},
		{"gptgob horde_unavailable as the first event", "gptgob", func(stream, a bool) llmretrytest.Step {
			if !stream {
				return gob.Overloaded(0)
			}
			if a { // an Anthropic-style stream from a GPT-Gob-shaped error
				return anth.StreamError(llmretrytest.ErrorReply{Type: "overloaded_error", Message: "horde_unavailable"}, 0)
			}
			return gob.StreamError(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "horde_unavailable", Message: "the horde is busy. try another tier."}, 0)
		}, true},
		{"cencori PROVIDER_ERROR (503)", "cencori", func(bool, bool) llmretrytest.Step { return cen.Overloaded(0) }, true},
		{"cencori PROVIDER_ERROR as the first event", "cencori", func(stream, _ bool) llmretrytest.Step {
			if !stream {
				return cen.Overloaded(0)
			}
			return cen.AbortedStream(0)
		}, true},
		{"gptgob goblin_distracted: retried", "gptgob", func(stream, _ bool) llmretrytest.Step {
			if !stream {
				return gob.ServerError()
			}
			return gob.AbortedStream(0)
		}, false},
	}
}

// fallbackSetup starts a fake provider that names the model of each answer,
// and a client whose llmretry Transport has policy pol with spare as its
// fallback, under a recorder.
func fallbackSetup(t *testing.T, pol *llmretry.Policy) (*llmretrytest.Server, *http.Client, *recorder, *targets) {
	t.Helper()
	srv := llmretrytest.Start(t)
	srv.EchoModel()
	pol.BaseDelay = 1e6 // 1 ms: quick retries
	pol.Fallbacks = []llmretry.Target{{Model: spare}}
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	tg := &targets{}
	rec := &recorder{next: &llmretry.Transport{Base: base, Policy: pol, Observer: &llmretry.Observer{AttemptEnd: tg.hook}}}
	return srv, &http.Client{Transport: rec}, rec, tg
}

// targets records the target and decision of every attempt.
type targets struct {
	mu  sync.Mutex // guards log
	log []string
}

func (t *targets) hook(a llmretry.AttemptInfo, _ *http.Response) {
	t.mu.Lock()
	t.log = append(t.log, a.Decision.String()+"@"+a.Target)
	t.mu.Unlock()
}

func (t *targets) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.log, " ")
}

// want is what the test expects of a reference: who answered, and the
// attempts' decisions and targets.
func (r reference) want() (model, trail string) {
	if r.fallback {
		return spare, "fallback@ success@" + spare
	}
	return busy, "retry@ success@"
}

func TestFallbackOpenAIGo(t *testing.T) {
	t.Parallel()
	newClient := func(url string, hc option.HTTPClient) openai.Client {
		return openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("sk-test"),
			option.WithHTTPClient(hc), option.WithMaxRetries(0))
	}
	params := openai.ChatCompletionNewParams{Model: busy, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}
	for _, ref := range references() {
		t.Run(ref.name, func(t *testing.T) {
			t.Parallel()
			wantModel, wantTrail := ref.want()
			srv, hc, _, tg := fallbackSetup(t, llmretry.Provider(ref.policy))
			srv.EnqueueModel(busy, ref.step(false, false))
			c := newClient(srv.URL, hc)
			res, err := c.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if res.Model != wantModel || res.Choices[0].Message.Content != "Hello from llmretrytest." || tg.String() != wantTrail {
				t.Errorf("answered by %q: %q; attempts %s, want %s by %s", res.Model, res.Choices[0].Message.Content, tg, wantTrail, wantModel)
			}
		})
		t.Run(ref.name+", streaming", func(t *testing.T) {
			t.Parallel()
			wantModel, wantTrail := ref.want()
			srv, hc, rec, tg := fallbackSetup(t, llmretry.Provider(ref.policy))
			srv.EnqueueModel(busy, ref.step(true, false))
			c := newClient(srv.URL, hc)
			stream := c.Chat.Completions.NewStreaming(context.Background(), params)
			var text, model strings.Builder
			for stream.Next() {
				c := stream.Current()
				if model.Len() == 0 {
					model.WriteString(c.Model)
				}
				if len(c.Choices) > 0 {
					text.WriteString(c.Choices[0].Delta.Content)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			stream.Close()
			if model.String() != wantModel || text.String() != "Hello from llmretrytest." || tg.String() != wantTrail {
				t.Errorf("answered by %q: %q; attempts %s, want %s by %s", model.String(), text.String(), tg, wantTrail, wantModel)
			}
			if want := string(llmretrytest.WithModel(llmretrytest.Stream, wantModel)); rec.last() != want {
				t.Errorf("the SDK read %q, want the stream byte for byte", rec.last())
			}
		})
	}
	t.Run("goblin_distracted after the first token reaches the SDK as it came", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec, tg := fallbackSetup(t, llmretry.Provider("gptgob"))
		step := llmretrytest.Dialect("gptgob").AbortedStream(1)
		srv.EnqueueModel(busy, step)
		c := newClient(srv.URL, hc)
		stream := c.Chat.Completions.NewStreaming(context.Background(), params)
		n := 0
		for stream.Next() {
			n++
		}
		err := stream.Err()
		stream.Close()
		if n != 1 || err == nil || !strings.Contains(err.Error(), "goblin_distracted") || rec.last() != string(step.Body) || tg.String() != "success@" {
			t.Errorf("%d chunks, err %v, attempts %s; the SDK read %q", n, err, tg, rec.last())
		}
	})
}

func TestFallbackGoOpenAI(t *testing.T) {
	t.Parallel()
	newClient := func(url string, hc *http.Client) *goopenai.Client {
		cfg := goopenai.DefaultConfig("sk-test")
		cfg.BaseURL = url + "/v1"
		cfg.HTTPClient = hc
		return goopenai.NewClientWithConfig(cfg)
	}
	req := goopenai.ChatCompletionRequest{Model: busy, Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}}}
	for _, ref := range references() {
		t.Run(ref.name, func(t *testing.T) {
			t.Parallel()
			wantModel, wantTrail := ref.want()
			srv, hc, _, tg := fallbackSetup(t, llmretry.Provider(ref.policy))
			srv.EnqueueModel(busy, ref.step(false, false))
			res, err := newClient(srv.URL, hc).CreateChatCompletion(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Model != wantModel || res.Choices[0].Message.Content != "Hello from llmretrytest." || tg.String() != wantTrail {
				t.Errorf("answered by %q; attempts %s, want %s by %s", res.Model, tg, wantTrail, wantModel)
			}
		})
		t.Run(ref.name+", streaming", func(t *testing.T) {
			t.Parallel()
			wantModel, wantTrail := ref.want()
			srv, hc, rec, tg := fallbackSetup(t, llmretry.Provider(ref.policy))
			srv.EnqueueModel(busy, ref.step(true, false))
			sreq := req
			sreq.Stream = true
			stream, err := newClient(srv.URL, hc).CreateChatCompletionStream(context.Background(), sreq)
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			var text, model strings.Builder
			for {
				c, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if model.Len() == 0 {
					model.WriteString(c.Model)
				}
				if len(c.Choices) > 0 {
					text.WriteString(c.Choices[0].Delta.Content)
				}
			}
			if model.String() != wantModel || text.String() != "Hello from llmretrytest." || tg.String() != wantTrail {
				t.Errorf("answered by %q: %q; attempts %s, want %s by %s", model.String(), text.String(), tg, wantTrail, wantModel)
			}
			if want := string(llmretrytest.WithModel(llmretrytest.Stream, wantModel)); rec.last() != want {
				t.Errorf("the SDK read %q, want the stream byte for byte", rec.last())
			}
		})
	}
	t.Run("goblin_distracted after the first token reaches the SDK as it came", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec, tg := fallbackSetup(t, llmretry.Provider("gptgob"))
		step := llmretrytest.Dialect("gptgob").AbortedStream(1)
		srv.EnqueueModel(busy, step)
		sreq := req
		sreq.Stream = true
		stream, err := newClient(srv.URL, hc).CreateChatCompletionStream(context.Background(), sreq)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		n := 0
		for {
			if _, err = stream.Recv(); err != nil {
				break
			}
			n++
		}
		if n != 1 || err == nil || errors.Is(err, io.EOF) || tg.String() != "success@" || rec.last() != string(step.Body) {
			t.Errorf("%d chunks, err %v, attempts %s; the SDK read %q", n, err, tg, rec.last())
		}
	})
}

func TestFallbackAnthropicSDK(t *testing.T) {
	t.Parallel()
	newClient := func(url string, hc anthropicoption.HTTPClient) anthropic.Client {
		return anthropic.NewClient(anthropicoption.WithBaseURL(url), anthropicoption.WithAPIKey("sk-ant-test"),
			anthropicoption.WithHTTPClient(hc), anthropicoption.WithMaxRetries(0))
	}
	params := anthropic.MessageNewParams{Model: busy, MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}}
	for _, ref := range references() {
		t.Run(ref.name, func(t *testing.T) {
			t.Parallel()
			wantModel, wantTrail := ref.want()
			srv, hc, _, tg := fallbackSetup(t, llmretry.Provider(ref.policy))
			srv.EnqueueModel(busy, ref.step(false, true))
			c := newClient(srv.URL, hc)
			msg, err := c.Messages.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if string(msg.Model) != wantModel || msg.Content[0].Text != "Hello from llmretrytest." || tg.String() != wantTrail {
				t.Errorf("answered by %q; attempts %s, want %s by %s", msg.Model, tg, wantTrail, wantModel)
			}
		})
		t.Run(ref.name+", streaming", func(t *testing.T) {
			t.Parallel()
			wantModel, wantTrail := ref.want()
			srv, hc, rec, tg := fallbackSetup(t, llmretry.Provider(ref.policy))
			srv.EnqueueModel(busy, ref.step(true, true))
			c := newClient(srv.URL, hc)
			stream := c.Messages.NewStreaming(context.Background(), params)
			var text, model strings.Builder
			for stream.Next() {
				switch ev := stream.Current(); ev.Type {
				case "message_start":
					model.WriteString(string(ev.Message.Model))
				case "content_block_delta":
					text.WriteString(ev.Delta.Text)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			stream.Close()
			if model.String() != wantModel || text.String() != "Hello from llmretrytest." || tg.String() != wantTrail {
				t.Errorf("answered by %q: %q; attempts %s, want %s by %s", model.String(), text.String(), tg, wantTrail, wantModel)
			}
			if want := string(llmretrytest.WithModel(llmretrytest.MessageStream, wantModel)); rec.last() != want {
				t.Errorf("the SDK read %q, want the stream byte for byte", rec.last())
			}
		})
	}
	t.Run("an error event after the first token reaches the SDK as it came", func(t *testing.T) {
		t.Parallel()
		srv, hc, rec, tg := fallbackSetup(t, llmretry.Provider("gptgob"))
		step := llmretrytest.Dialect("anthropic").AbortedStream(3) // message_start, content_block_start, a delta
		srv.EnqueueModel(busy, step)
		c := newClient(srv.URL, hc)
		stream := c.Messages.NewStreaming(context.Background(), params)
		n := 0
		for stream.Next() {
			n++
		}
		err := stream.Err()
		stream.Close()
		if n != 3 || err == nil || !strings.Contains(err.Error(), "overloaded_error") || tg.String() != "success@" || rec.last() != string(step.Body) {
			t.Errorf("%d events, err %v, attempts %s; the SDK read %q", n, err, tg, rec.last())
		}
	})
}
