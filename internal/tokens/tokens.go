// Package tokens estimates what a chat or completion request counts against
// a provider's token quotas. llmretry paces by this estimate and
// llmretrytest's limits count by it, so the two agree exactly.
package tokens

import (
	"bytes"
	"encoding/json"
)

// Max bounds an estimate: no request is worth more than this many tokens.
const Max = 1 << 30

// imagePart is what an image part of a message is counted as: the most a
// high-detail image tile set costs on OpenAI-compatible APIs.
const imagePart = 765

// Estimate returns the tokens of a request body's prompt and the output it
// reserves: about one token per four bytes of prompt text, four per
// message, plus max_tokens (or max_completion_tokens), which providers count
// in advance. A body that is not JSON counts one token per four bytes, plus
// one, as input; an empty body counts 1. Each is at most Max.
func Estimate(body []byte) (input, output int64) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return 1, 0
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
		return min(int64(len(body))/4+1, Max), 0
	}
	n := int64(0)
	for _, m := range r.Messages {
		n += 4 + content(m.Content)
	}
	n += content(r.Prompt) + content(r.Input) + content(r.System)
	out := max(r.MaxTokens, r.MaxCompletionTokens, 0)
	return min(n, Max), min(out, Max)
}

// content estimates a content value: a string, an array of strings or of
// typed parts ({"type":"text","text":…}, image parts), or nothing.
func content(raw json.RawMessage) int64 {
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
			n += part(p)
		}
		return n
	}
	return int64(len(raw)) / 4
}

func part(raw json.RawMessage) int64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return content(raw)
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
		return content(p.Text)
	case p.Type == "image_url" || p.Type == "image" || p.Type == "input_image":
		return imagePart
	}
	return int64(len(raw)) / 4
}
