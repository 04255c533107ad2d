package llmretry

// AzureOpenAI returns the policy for Azure OpenAI (*.openai.azure.com and
// *.cognitiveservices.azure.com), following the Azure SDKs' retry policy:
// 408, 429, 500, 502, 503 and 504 are retried, 3 retries, with the wait read
// from retry-after-ms, x-ms-retry-after-ms, then Retry-After (its 429s also
// say "Please retry after N seconds."). content_filter (400, innererror
// ResponsibleAIPolicyViolation) is a content filter, never retried;
// DeploymentNotFound (404) is not retried.
func AzureOpenAI() *Policy {
	return &Policy{
		Name:       "azure-openai",
		MaxRetries: 3,
		Codes: map[string]Rule{
			"content_filter":               {Class: ContentFiltered},
			"responsibleaipolicyviolation": {Class: ContentFiltered},
			"deploymentnotfound":           {Class: NotFound},
			"context_length_exceeded":      {Class: ContextLength},
			"invalid_api_key":              {Class: Auth},
		},
		Statuses: map[int]Rule{
			408: {Class: Timeout},
			429: {Class: RateLimited},
			500: {Class: ServerError},
			502: {Class: ServerError},
			503: {Class: Overloaded},
			504: {Class: Timeout},
		},
	}
}
