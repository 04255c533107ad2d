package llmretry

import (
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

func vllmRow(doc string, status int, typ string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("vllm"), doc, llmretrytest.ErrorReply{Status: status, Type: typ}, class, retried)
}

// TestVLLM covers vLLM's OpenAI-compatible server. Its documentation
// ("OpenAI-Compatible Server", docs.vllm.ai) lists no error codes; the rows
// follow its source (vllm/entrypoints/openai/protocol.py ErrorResponse:
// object "error", message, type, param, code: int; later nested under
// "error"; serving_engine.py create_error_response, err_type
// "BadRequestError" by default, "NotFoundError" for an unknown model). With
// the docs silent, statuses keep the generic rules: what the OpenAI SDK,
// which vLLM's docs tell users to call it with, retries.
func TestVLLM(t *testing.T) {
	t.Parallel()
	v := llmretrytest.Dialect("vllm")
	rows := []providerRow{
		vllmRow("[{'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required'}]", 400, "BadRequestError", ClassInvalidRequest, false),
		// A prompt over the model's length: 400, not retried.
		vllmRow("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
			400, "BadRequestError", ClassInvalidRequest, false),
		// "The model `x` does not exist."
		vllmRow("The model `llama-9` does not exist.", 404, "NotFoundError", ClassNotFound, false),
		// --api-key set and the request's is wrong: api_server.py's AuthenticationMiddleware,
		// JSONResponse(content={"error": "Unauthorized"}, status_code=401).
		rawRow("401 Unauthorized (--api-key)", 401, nil, `{"error":"Unauthorized"}`, ClassAuth, false, 0),
		{doc: "500 InternalServerError", step: v.ServerError(), class: ClassServerError, retried: true},
		{doc: "503 in front of vLLM (not starting, or a gateway)", step: v.Overloaded(0), class: ClassOverloaded, retried: true},
		// The older top-level shape, the code the status as a number.
		rawRow("400 top-level ErrorResponse", 400, nil,
			`{"object":"error","message":"temperature must be non-negative, got -1.0.","type":"BadRequestError","param":null,"code":400}`, ClassInvalidRequest, false, 0),
		rawRow("404 top-level ErrorResponse", 404, nil,
			`{"object":"error","message":"The model `+"`x`"+` does not exist.","type":"NotFoundError","param":null,"code":404}`, ClassNotFound, false, 0),
		// A gateway's 429 in front of it: retried after its hint.
		{doc: "429 from a gateway, Retry-After: 1", step: v.RateLimit(1), class: ClassRateLimited, retried: true},
	}
	runRows(t, vllmPolicy, rows)
	sdkDefaults(t, vllmPolicy(), 3, defaultBaseDelay, defaultMaxDelay)
}
