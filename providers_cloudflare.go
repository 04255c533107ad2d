package llmretry

// cloudflareWorkersAIPolicy returns the policy for Cloudflare Workers AI through
// Cloudflare's API (api.cloudflare.com/client/v4/accounts/{id}/ai/run/…),
// whose errors come in Cloudflare's envelope,
// {"success":false,"errors":[{"code":3036,"message":…}]}, with the numeric
// internal codes of Workers AI's errors page. 3036 (the daily free
// allocation of neurons is used up; it resets at 00:00 UTC) is not retried.
// 3040 (out of capacity, "No more data centers to forward the request to"),
// 3007 and 3008 (request timeout, aborted) and the API's rate limit (429,
// with retry-after and RateLimit fields) are. Invalid data, unknown models,
// accounts not allowed a model and requests too large are not. Attempts and
// backoff are the generic ones. The error format of the OpenAI-compatible
// endpoints (…/ai/v1/chat/completions) is not documented: the envelope and
// OpenAI's shape are both read, so either is classified.
//
// DefaultHosts routes api.cloudflare.com here. The policy only adds Workers
// AI's codes, so Cloudflare's other APIs, if called through the same
// Transport, keep the generic rules. AI Gateway (gateway.ai.cloudflare.com)
// answers in the format of the provider behind it and stays generic.
func cloudflareWorkersAIPolicy() *Policy {
	return &Policy{
		Name: "cloudflare",
		Codes: map[string]Rule{
			"5007": {Class: ClassNotFound},       // No such model
			"3042": {Class: ClassNotFound},       // Invalid model ID
			"5004": {Class: ClassInvalidRequest}, // Invalid data
			"3039": {Class: ClassInvalidRequest}, // Finetune missing required files
			"3003": {Class: ClassInvalidRequest}, // Incomplete request
			"5019": {Class: ClassInvalidRequest}, // Deprecated SDK version
			"5005": {Class: ClassInvalidRequest}, // LoRa unsupported
			"3006": {Class: ClassInvalidRequest}, // Request too large
			"5018": {Class: ClassPermission},     // Account not allowed for private model
			"3041": {Class: ClassPermission},     // Account not allowed for private model
			"5016": {Class: ClassPermission},     // Model agreement
			"3023": {Class: ClassPermission},     // Account blocked
			"3007": {Class: ClassTimeout},        // Timeout
			"3008": {Class: ClassTimeout},        // Aborted
			"3036": {Class: ClassQuotaExhausted}, // Account limited: the daily free allocation
			"3040": {Class: ClassOverloaded},     // Out of capacity
		},
	}
}
