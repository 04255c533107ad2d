package llmretry

// vllmPolicy returns the policy for vLLM's OpenAI-compatible server (vllm serve),
// whose errors are OpenAI-shaped, {"error":{"message","type","param","code"}}
// (older versions: the same fields at the top level with "object":"error"),
// the type named after the status ("BadRequestError", "NotFoundError",
// "InternalServerError") and the code the status as a number. vLLM queues
// what it cannot run yet rather than refusing it, and has no rate limit of
// its own; a 429 or 503 comes from what runs in front of it and is retried.
// The generic policy reads the same answers the same way: this one gives
// vLLM servers a name (in logs and metrics) and pacing state of their own.
//
// A self-hosted server has no well-known host: route yours with
// Transport.Hosts, e.g. Hosts: map[string]*llmretry.Policy{"gpu1.internal":
// llmretry.Provider("vllm")} (a host name without a port; requests to any port
// match), or set Transport.Policy. Hosts of one Policy value share its
// pacing state; call Provider("vllm") once per server to keep them apart.
func vllmPolicy() *Policy {
	return &Policy{
		Name: "vllm",
		Codes: map[string]Rule{
			"badrequesterror":     {Class: ClassInvalidRequest},
			"notfounderror":       {Class: ClassNotFound},
			"internalservererror": {Class: ClassServerError},
		},
	}
}
