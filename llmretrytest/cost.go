package llmretrytest

import (
	"bytes"
	"encoding/json"
)

// Cost is what a request counts against token quotas: the prompt's tokens
// and the max_tokens the provider reserves for the answer ("we estimate the
// total tokens … by estimating the input tokens in your prompt, adding
// either the max_completion_tokens parameter or …": Cerebras).
type Cost struct{ Input, Output int }

// Total is Input + Output, at least 1.
func (c Cost) Total() int { return max(c.Input+c.Output, 1) }

func (c Cost) of(u Unit) int {
	switch u {
	case Tokens:
		return c.Total()
	case InputTokens:
		return c.Input
	case OutputTokens:
		return c.Output
	}
	return 1
}

// imagePartTokens is what an image part of a message counts as.
const imagePartTokens = 765

// RequestCost estimates a chat or completion request body's tokens exactly
// as the client's llmretry.EstimateTokens does (so that a client pacing by
// its own estimate can be exact): about one token per four bytes of prompt
// text, four per message, plus max_tokens (or max_completion_tokens). A body
// that is not JSON counts one token per four bytes, plus one.
func RequestCost(body []byte) Cost {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return Cost{Input: 1}
	}
	var r struct {
		MaxTokens           int64 `json:"max_tokens"`
		MaxCompletionTokens int64 `json:"max_completion_tokens"`
		Messages            []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Prompt json.RawMessage `json:"prompt"`
		Input  json.RawMessage `json:"input"`
		System json.RawMessage `json:"system"`
	}
	if body[0] != '{' || json.Unmarshal(body, &r) != nil {
		return Cost{Input: len(body)/4 + 1}
	}
	const maxCost = 1 << 30
	n := int64(0)
	for _, m := range r.Messages {
		n += 4 + contentTokens(m.Content)
	}
	n += contentTokens(r.Prompt) + contentTokens(r.Input) + contentTokens(r.System)
	out := max(r.MaxTokens, r.MaxCompletionTokens, 0)
	return Cost{Input: int(min(n, maxCost)), Output: int(min(out, maxCost))}
}

func contentTokens(raw json.RawMessage) int64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return int64(len(s)+3) / 4
		}
	case '[':
		var parts []json.RawMessage
		if json.Unmarshal(raw, &parts) != nil {
			return int64(len(raw)) / 4
		}
		n := int64(0)
		for _, p := range parts {
			n += partTokens(p)
		}
		return n
	}
	return int64(len(raw)) / 4
}

func partTokens(raw json.RawMessage) int64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return contentTokens(raw)
	}
	var p struct {
		Type string          `json:"type"`
		Text json.RawMessage `json:"text"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return int64(len(raw)) / 4
	}
	switch {
	case len(p.Text) > 0:
		return contentTokens(p.Text)
	case p.Type == "image_url" || p.Type == "image" || p.Type == "input_image":
		return imagePartTokens
	}
	return int64(len(raw)) / 4
}
