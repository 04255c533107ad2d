package llmretry

// CloudflareWorkersAI returns the policy for Cloudflare Workers AI through
// Cloudflare's API (api.cloudflare.com/client/v4/accounts/{id}/ai/run/…, and
// the OpenAI-compatible …/ai/v1/chat/completions), whose errors come in
// Cloudflare's envelope, {"success":false,"errors":[{"code":3036,"message":…}]},
// with the numeric internal codes of Workers AI's errors page. 3036 (the
// daily free allocation of neurons is used up) is not retried: the
// allocation resets at 00:00 UTC. 3040 (out of capacity, "No more data
// centers to forward the request to") and 3007/3008 (request timeout,
// aborted) are. Invalid data, unknown models, accounts not allowed a model
// and requests too large are not. Attempts and backoff are the generic ones
// (Cloudflare's SDKs: 2 retries).
//
// DefaultHosts routes api.cloudflare.com here; the policy only adds codes,
// so the rest of Cloudflare's API keeps the generic rules. Workers AI
// through AI Gateway (gateway.ai.cloudflare.com) answers in the format of
// the provider behind it and stays generic.
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
