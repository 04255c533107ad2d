package llmretry

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// imagePartTokens is what an image part of a message is counted as: the
// most a high-detail image tile set costs on OpenAI-compatible APIs.
const imagePartTokens = 765

// EstimateTokens estimates the tokens a chat or completion request will
// consume against a tokens-per-minute limit: about one token per four bytes
// of prompt text, four per message, plus max_tokens (or
// max_completion_tokens), which providers count in advance. A body that is
// not JSON counts one token per four bytes. It never returns less than 1.
func EstimateTokens(body []byte) int {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return 1
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
		return len(body)/4 + 1
	}
	n := int64(0)
	for _, m := range r.Messages {
		n += 4 + contentTokens(m.Content)
	}
	n += contentTokens(r.Prompt) + contentTokens(r.Input) + contentTokens(r.System)
	out := max(r.MaxTokens, r.MaxCompletionTokens, 0)
	total := n + out
	const maxCost = 1 << 30
	if total < 1 {
		return 1
	}
	return int(min(total, maxCost))
}

// contentTokens estimates a content value: a string, an array of strings or
// of typed parts ({"type":"text","text":…}, image parts), or nothing.
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

// cost estimates the tokens of a request for the token bucket: 1 when
// tokens are not paced, so that the body is not read for nothing.
func (p *pacer) cost(req *http.Request, body replayBody, maxBody int64) int {
	if !p.pacesTokens() {
		return 1
	}
	var b []byte
	if body.get != nil {
		if rc, err := body.get(); err == nil {
			b, _ = io.ReadAll(io.LimitReader(rc, max(maxBody, DefaultMaxBodyBuffer)))
			rc.Close()
		}
	}
	if f := p.pol.Limits.Cost; f != nil {
		return max(f(req, b), 1)
	}
	if b == nil && req.ContentLength > 0 {
		return int(req.ContentLength/4) + 1
	}
	return EstimateTokens(b)
}
