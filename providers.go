package llmretry

// Each built-in policy maps every status, type and code that its provider's
// published error reference lists, and follows its official SDK's retry
// rules (attempts, backoff, which statuses); where they are silent, the
// generic rules apply. Each provider family has its own file,
// providers_<family>.go. Every constructor returns a new Policy, so a caller
// can change it (p.Codes["x"] = Rule{…}) without affecting anyone else.

// builtins are the constructors of the built-in policies, by name, in the
// order Policies lists them.
var builtins = [...]struct {
	name string
	new  func() *Policy
}{
	{"generic", genericPolicy},
	{"openai", openAIPolicy}, {"azure-openai", azureOpenAIPolicy}, {"anthropic", anthropicPolicy},
	{"gemini", geminiPolicy}, {"bedrock", bedrockPolicy}, {"groq", groqPolicy}, {"mistral", mistralPolicy},
	{"openrouter", openRouterPolicy}, {"deepseek", deepSeekPolicy}, {"xai", xAIPolicy},
	{"together", togetherPolicy}, {"fireworks", fireworksPolicy}, {"cerebras", cerebrasPolicy},
	{"sambanova", sambaNovaPolicy}, {"cencori", cencoriPolicy}, {"solidrust", solidRusTPolicy},
	{"gptgob", gptGobPolicy}, {"cloudflare", cloudflareWorkersAIPolicy}, {"cohere", coherePolicy},
	{"vllm", vllmPolicy}, {"tgi", tgiPolicy}, {"ollama", ollamaPolicy},
}

// Provider returns a new copy of the built-in policy of that name, or nil
// for a name it does not know. Change its fields freely before handing it to
// a [Transport]; each call returns a policy of its own, with its own pacing
// state. The names, as [Policy].Name gives them:
//
//   - "generic": any OpenAI-compatible API, and the other formats it can
//     recognise without being told the provider (through a proxy or
//     gateway): 2 retries, backoff from 0.5 s to 8 s, server hints up to
//     2 min, and a code table that knows OpenAI's, Anthropic's, Google's and
//     AWS's errors. A Transport without a Policy uses it for unknown hosts.
//   - "openai", "azure-openai", "anthropic", "gemini", "bedrock", "groq",
//     "mistral", "openrouter", "deepseek", "xai", "together", "fireworks",
//     "cerebras", "sambanova", "cencori", "solidrust", "cloudflare"
//     (Workers AI), "cohere": those providers' APIs, following their
//     published error references and their official SDKs' retry rules;
//     [DefaultHosts] routes their well-known hosts to them.
//   - "gptgob": GPT-Gob, a fictional provider with unusual error formats
//     (not routed by default).
//   - "vllm", "tgi" (also behind Hugging Face Inference Endpoints),
//     "ollama": servers you run yourself; route their hosts with
//     [Transport].Hosts, one policy per server.
//
// A nil policy in [Transport].Hosts (an unknown name) fails every request
// with an error naming its key; as [Transport].Policy, nil means routing by
// host, so check the result of Provider for a name that is not a constant.
func Provider(name string) *Policy {
	for _, b := range builtins {
		if b.name == name {
			return b.new()
		}
	}
	return nil
}

// genericPolicy returns the policy for any OpenAI-compatible API, and for
// the other formats it can recognise without being told the provider (through a proxy
// or gateway): 2 retries, exponential backoff from 0.5 s to 8 s with equal
// jitter, server hints up to 2 min, and the generic code table
// (rate_limit_exceeded is retried; insufficient_quota and quota_exceeded are
// not; Anthropic's error types, Google's statuses and ErrorInfo reasons and
// AWS exception names are known too). A 409 is retried: the proxies and
// gateways it serves are what openai-go users point at, and openai-go (like
// every Stainless SDK: anthropic-sdk-go too) retries 409; a provider whose
// documentation says otherwise (GPT-Gob's conflict_error) has its own policy.
func genericPolicy() *Policy {
	return &Policy{Name: "generic", Statuses: map[int]Rule{
		409: {Class: ClassConflict, Retry: RetryAlways}, // openai-go retries 409
	}}
}

// Policies returns a new copy of every built-in policy, the generic one
// first; see [Provider] for their names.
func Policies() []*Policy {
	ps := make([]*Policy, len(builtins))
	for i, b := range builtins {
		ps[i] = b.new()
	}
	return ps
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
	gemini, bedrock, azure, together, cohere := geminiPolicy(), bedrockPolicy(), azureOpenAIPolicy(), togetherPolicy(), coherePolicy()
	return map[string]*Policy{
		"api.openai.com":                       openAIPolicy(),
		"*.openai.azure.com":                   azure,
		"*.cognitiveservices.azure.com":        azure,
		"api.anthropic.com":                    anthropicPolicy(),
		"generativelanguage.googleapis.com":    gemini,
		"aiplatform.googleapis.com":            gemini,
		"*-aiplatform.googleapis.com":          gemini,
		"bedrock-runtime.*.amazonaws.com":      bedrock,
		"bedrock-runtime-fips.*.amazonaws.com": bedrock,
		"api.groq.com":                         groqPolicy(),
		"api.mistral.ai":                       mistralPolicy(),
		"openrouter.ai":                        openRouterPolicy(),
		"api.deepseek.com":                     deepSeekPolicy(),
		"api.x.ai":                             xAIPolicy(),
		"api.together.xyz":                     together,
		"api.together.ai":                      together,
		"api.fireworks.ai":                     fireworksPolicy(),
		"api.cerebras.ai":                      cerebrasPolicy(),
		"api.sambanova.ai":                     sambaNovaPolicy(),
		"api.solidrust.ai":                     solidRusTPolicy(),
		"api.cloudflare.com":                   cloudflareWorkersAIPolicy(),
		"api.cohere.com":                       cohere,
		"api.cohere.ai":                        cohere,
	}
}
