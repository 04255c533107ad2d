package llmretry

// tgiPolicy returns the policy for Hugging Face Text Generation Inference, run on
// your own machines or behind Hugging Face Inference Endpoints. Its router
// answers errors as {"error":"message","error_type":"…"}: 429 "overloaded"
// ("Model is overloaded": more concurrent requests than
// --max-concurrent-requests) is retried; 422 "validation" (including an
// input over the token limit), "template_error" and "tool_error" are not;
// 424 "generation" (the model failed while generating) is not retried,
// as Hugging Face's clients do not; 500 "incomplete_generation" is.
// The generic policy reads error_type too.
//
// An Inference Endpoint scaled to zero answers 503 while its replica
// starts, which takes minutes: longer than retries wait. Send the
// X-Scale-Up-Timeout header (seconds) with requests to make the endpoint
// hold them until a replica is ready.
//
// A self-hosted server has no well-known host, and an Inference Endpoint's
// host (<name>.<region>.<cloud>.endpoints.huggingface.cloud) has more labels
// than a host pattern's one "*": route yours with Transport.Hosts, e.g. Hosts: map[string]*llmretry.Policy{"tgi.internal":
// llmretry.Provider("tgi")}, or set Transport.Policy.
func tgiPolicy() *Policy {
	return &Policy{
		Name: "tgi",
		Codes: map[string]Rule{
			"overloaded":            {Class: ClassOverloaded},
			"validation":            {Class: ClassInvalidRequest},
			"template_error":        {Class: ClassInvalidRequest},
			"tool_error":            {Class: ClassInvalidRequest},
			"generation":            {Class: ClassServerError, Retry: RetryNever},
			"incomplete_generation": {Class: ClassServerError},
		},
	}
}
