package llmretry

// azureOpenAIPolicy returns the policy for Azure OpenAI (*.openai.azure.com and
// *.cognitiveservices.azure.com), following the Azure SDKs' retry policy:
// 408, 429, 500, 502, 503 and 504 are retried, 3 retries, with the wait read
// from retry-after-ms, x-ms-retry-after-ms, then Retry-After (its 429s also
// say "Please retry after N seconds."). content_filter (400, innererror
// ResponsibleAIPolicyViolation) is a content filter, never retried;
// DeploymentNotFound (404) is not retried.
func azureOpenAIPolicy() *Policy {
	return &Policy{
		Name:       "azure-openai",
		MaxRetries: 3,
		Codes: map[string]Rule{
			"content_filter":               {Class: ClassContentFiltered},
			"responsibleaipolicyviolation": {Class: ClassContentFiltered},
			"deploymentnotfound":           {Class: ClassNotFound},
			"context_length_exceeded":      {Class: ClassContextLength},
			"invalid_api_key":              {Class: ClassAuth},
		},
		Statuses: map[int]Rule{
			408: {Class: ClassTimeout},
			429: {Class: ClassRateLimited},
			500: {Class: ClassServerError},
			502: {Class: ClassServerError},
			503: {Class: ClassOverloaded},
			504: {Class: ClassTimeout},
		},
	}
}
