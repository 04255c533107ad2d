package llmretrytest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Completion is the body of every successful non-streaming answer: an
// OpenAI-compatible chat completion.
const Completion = `{"id":"chatcmpl-llmretrytest","object":"chat.completion","created":1767225600,` +
	`"model":"fake-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from llmretrytest."},` +
	`"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}`

// Stream is the body of every successful streaming answer: server-sent events
// of chat completion chunks, ending with [DONE].
const Stream = "data: {\"id\":\"chatcmpl-llmretrytest\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"fake-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n" +
	"data: {\"id\":\"chatcmpl-llmretrytest\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"fake-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" from llmretrytest.\"},\"finish_reason\":null}]}\n\n" +
	"data: {\"id\":\"chatcmpl-llmretrytest\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"fake-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
	"data: [DONE]\n\n"

// Message is the body of a successful non-streaming answer on Anthropic's
// Messages API (a path ending in /messages).
const Message = `{"id":"msg_llmretrytest","type":"message","role":"assistant","model":"fake-model",` +
	`"content":[{"type":"text","text":"Hello from llmretrytest."}],"stop_reason":"end_turn","stop_sequence":null,` +
	`"usage":{"input_tokens":9,"output_tokens":5}}`

// MessageStream is the body of a successful streaming answer on Anthropic's
// Messages API.
const MessageStream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_llmretrytest\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"fake-model\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" from llmretrytest.\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

// TemplateModel is the model that Completion, Stream, Message and
// MessageStream name. After [Server.EchoModel], a success answer names the
// model of its request instead; the bodies are otherwise these.
const TemplateModel = "fake-model"

// successBody is the success answer for a path and request body.
func successBody(path string, reqBody []byte, echo bool) (contentType string, body []byte) {
	anthropic := strings.HasSuffix(path, "/messages")
	contentType, b := "application/json", Completion
	switch {
	case isStream(reqBody) && anthropic:
		contentType, b = "text/event-stream", MessageStream
	case isStream(reqBody):
		contentType, b = "text/event-stream", Stream
	case anthropic:
		b = Message
	}
	if !echo {
		return contentType, []byte(b)
	}
	return contentType, WithModel(b, modelOf(reqBody))
}

// WithModel returns body (one of Completion, Stream, Message, MessageStream)
// naming model instead of TemplateModel; an empty model changes nothing.
func WithModel(body, model string) []byte {
	if model == "" || model == TemplateModel {
		return []byte(body)
	}
	enc, _ := json.Marshal(model)
	return bytes.ReplaceAll([]byte(body), []byte(`"model":"`+TemplateModel+`"`), append([]byte(`"model":`), enc...))
}

// modelOf returns the top-level "model" of a JSON request body, or "".
func modelOf(body []byte) string {
	if !bytes.Contains(body, []byte(`"model"`)) {
		return ""
	}
	var r struct {
		Model string `json:"model"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.Model
}

// isStream reports whether a request body asks for a streamed answer.
func isStream(body []byte) bool {
	if !bytes.Contains(body, []byte(`"stream"`)) {
		return false
	}
	var r struct {
		Stream bool `json:"stream"`
	}
	return json.Unmarshal(body, &r) == nil && r.Stream
}
