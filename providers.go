package llmretry

// Each built-in policy maps every status, type and code that its provider's
// published error reference lists, and follows its official SDK's retry
// rules (attempts, backoff, which statuses); where they are silent, the
// generic rules apply. Each provider family has its own file,
// providers_<family>.go. Every constructor returns a new Policy, so a caller
// can change it (p.Codes["x"] = Rule{…}) without affecting anyone else.

// Generic returns the policy for any OpenAI-compatible API, and for the other
// formats it can recognise without being told the provider (through a proxy
// or gateway): 2 retries, exponential backoff from 0.5 s to 8 s with equal
// jitter, server hints up to 60 s, and the generic code table
// (rate_limit_exceeded is retried; insufficient_quota and quota_exceeded are
// not; Anthropic's error types, Google's statuses and ErrorInfo reasons and
// AWS exception names are known too).
func Generic() *Policy {
	return &Policy{Name: "generic"}
}

// Policies returns every built-in policy, the generic one first.
func Policies() []*Policy {
	return []*Policy{
		Generic(),
		OpenAI(), AzureOpenAI(), Anthropic(), Gemini(), Bedrock(),
		Groq(), Mistral(), OpenRouter(), DeepSeek(), XAI(), Together(), Fireworks(),
		Cerebras(), SambaNova(), Cencori(), SolidRusT(), GPTGob(),
		CloudflareWorkersAI(), Cohere(), VLLM(), TGI(), Ollama(),
	}
}

// DefaultHosts returns the built-in routes from API host names to policies,
// for the providers whose API host is well known. A key may be a pattern with
// one "*" standing for one DNS label or part of one ("*.openai.azure.com");
// see [Transport].Hosts. A [Transport] without a Policy uses them; route other
// hosts (a GPT-Gob or Cencori endpoint, a proxy, a self-hosted vLLM, TGI or
// Ollama server) with Transport.Hosts. The map
// is new on every call; hosts of one provider share one policy (and so one
// pacing state).
func DefaultHosts() map[string]*Policy {
	gemini, bedrock, azure, together, cohere := Gemini(), Bedrock(), AzureOpenAI(), Together(), Cohere()
	return map[string]*Policy{
		"api.openai.com":                       OpenAI(),
		"*.openai.azure.com":                   azure,
		"*.cognitiveservices.azure.com":        azure,
		"api.anthropic.com":                    Anthropic(),
		"generativelanguage.googleapis.com":    gemini,
		"aiplatform.googleapis.com":            gemini,
		"*-aiplatform.googleapis.com":          gemini,
		"bedrock-runtime.*.amazonaws.com":      bedrock,
		"bedrock-runtime-fips.*.amazonaws.com": bedrock,
		"api.groq.com":                         Groq(),
		"api.mistral.ai":                       Mistral(),
		"openrouter.ai":                        OpenRouter(),
		"api.deepseek.com":                     DeepSeek(),
		"api.x.ai":                             XAI(),
		"api.together.xyz":                     together,
		"api.together.ai":                      together,
		"api.fireworks.ai":                     Fireworks(),
		"api.cerebras.ai":                      Cerebras(),
		"api.sambanova.ai":                     SambaNova(),
		"api.solidrust.ai":                     SolidRusT(),
		"api.cloudflare.com":                   CloudflareWorkersAI(),
		"api.cohere.com":                       cohere,
		"api.cohere.ai":                        cohere,
	}
}
