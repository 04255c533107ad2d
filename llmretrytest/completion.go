package llmretrytest

import (
	"bytes"
	"encoding/json"
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

func completionBody() []byte { return []byte(Completion) }
func streamBody() []byte     { return []byte(Stream) }

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
