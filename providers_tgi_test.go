package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

func tgiRow(doc string, status int, typ string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("tgi"), doc, llmretrytest.ErrorReply{Status: status, Type: typ}, class, retried)
}

// TestTGI covers Hugging Face Text Generation Inference's router errors and
// Inference Endpoints' scale-from-zero answer. TGI's documentation lists no
// error codes; the rows follow its router (router/src/server.rs: "impl
// From<InferError> for (StatusCode, Json<ErrorResponse>)": GenerationError →
// FAILED_DEPENDENCY, Overloaded → TOO_MANY_REQUESTS, ValidationError →
// UNPROCESSABLE_ENTITY, IncompleteGeneration → INTERNAL_SERVER_ERROR,
// TemplateError and ToolError → UNPROCESSABLE_ENTITY; router/src/infer:
// error_type "generation", "overloaded", "validation",
// "incomplete_generation", "template_error", "tool_error"; the Overloaded
// message "Model is overloaded").
func TestTGI(t *testing.T) {
	t.Parallel()
	g := llmretrytest.Dialect("tgi")
	rows := []providerRow{
		// "Model is overloaded": the router's semaphore of --max-concurrent-requests is full.
		{doc: "429 overloaded: Model is overloaded", step: g.RateLimit(0), class: ClassOverloaded, retried: true},
		// "Input validation error: {0}"
		tgiRow("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`",
			422, "validation", ClassInvalidRequest, false),
		tgiRow("Template error: template not found", 422, "template_error", ClassInvalidRequest, false),
		tgiRow("Tool error: No function found in generated text", 422, "tool_error", ClassInvalidRequest, false),
		// "Request failed during generation: {0}": the model failed; Hugging
		// Face's clients (huggingface_hub's GenerationError) do not retry it.
		tgiRow("Request failed during generation: Server error: CUDA out of memory.", 424, "generation", ClassServerError, false),
		// "Incomplete generation": 500, retried as any 5xx.
		{doc: "500 incomplete_generation", step: g.ServerError(), class: ClassServerError, retried: true},
		// Inference Endpoints, "Autoscaling": "the proxy will respond with the
		// status code 503 while the new replica is initializing."
		{doc: "503 Inference Endpoint scaling up from zero", step: g.Overloaded(0), class: ClassOverloaded, retried: true},
		// In a stream the router sends the same ErrorResponse as an event
		// ("impl From<InferError> for Event"): data: {"error","error_type"}.
		{doc: "stream: first event overloaded", step: g.StreamError(llmretrytest.ErrorReply{Status: 429, Type: "overloaded", Message: "Model is overloaded"}, 0),
			class: ClassOverloaded, retried: true},
		{doc: "stream: first event generation error", step: g.StreamError(llmretrytest.ErrorReply{Status: 424, Type: "generation",
			Message: "Request failed during generation: Server error: CUDA out of memory."}, 0), class: ClassServerError},
	}
	runRows(t, tgiPolicy, rows)
	sdkDefaults(t, tgiPolicy(), 3, defaultBaseDelay, defaultMaxDelay)
}
