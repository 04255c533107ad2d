package llmretry

// CloudflareWorkersAI returns the policy for Cloudflare Workers AI through
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
func CloudflareWorkersAI() *Policy {
	return &Policy{
		Name: "cloudflare",
		Codes: map[string]Rule{
			"5007": {Class: NotFound},       // No such model
			"3042": {Class: NotFound},       // Invalid model ID
			"5004": {Class: InvalidRequest}, // Invalid data
			"3039": {Class: InvalidRequest}, // Finetune missing required files
			"3003": {Class: InvalidRequest}, // Incomplete request
			"5019": {Class: InvalidRequest}, // Deprecated SDK version
			"5005": {Class: InvalidRequest}, // LoRa unsupported
			"3006": {Class: InvalidRequest}, // Request too large
			"5018": {Class: Permission},     // Account not allowed for private model
			"3041": {Class: Permission},     // Account not allowed for private model
			"5016": {Class: Permission},     // Model agreement
			"3023": {Class: Permission},     // Account blocked
			"3007": {Class: Timeout},        // Timeout
			"3008": {Class: Timeout},        // Aborted
			"3036": {Class: QuotaExhausted}, // Account limited: the daily free allocation
			"3040": {Class: Overloaded},     // Out of capacity
		},
	}
}
