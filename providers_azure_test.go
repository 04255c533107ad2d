package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestAzureOpenAI covers Azure OpenAI's answers and the Azure SDKs' retry
// policy (azcore policy.RetryOptions: "MaxRetries … default 3", status codes
// 408, 429, 500, 502, 503, 504; the wait read from retry-after-ms,
// x-ms-retry-after-ms, then Retry-After).
func TestAzureOpenAI(t *testing.T) {
	t.Parallel()
	a := llmretrytest.Dialect("azure-openai")
	rows := []providerRow{
		// "…have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."
		{doc: "429 exceeded token rate limit, retry-after-ms", step: a.RateLimit(6), class: ClassRateLimited, retried: true, wait: 6 * time.Second},
		rawRow("429 x-ms-retry-after-ms only", 429, http.Header{"X-Ms-Retry-After-Ms": {"2500"}},
			`{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier."}}`,
			ClassRateLimited, true, 2500*time.Millisecond),
		rawRow("429 wait only in the message", 429, nil,
			`{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds."}}`,
			ClassRateLimited, true, 7*time.Second),
		// A day's quota: "Please retry after 86400 seconds." is past MaxWait: returned at once.
		{doc: "429 retry after 86400 seconds", step: a.QuotaExhausted(), class: ClassRateLimited},
		// "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."
		dRow(a, "400 content_filter ResponsibleAIPolicyViolation", llmretrytest.ErrorReply{Status: 400, Code: "content_filter", Param: "prompt",
			Message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry."}, ClassContentFiltered, false),
		dRow(a, "404 DeploymentNotFound", llmretrytest.ErrorReply{Status: 404, Code: "DeploymentNotFound",
			Message: "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}, ClassNotFound, false),
		dRow(a, "401 invalid subscription key", llmretrytest.ErrorReply{Status: 401,
			Message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}, ClassAuth, false),
		dRow(a, "408 retried", llmretrytest.ErrorReply{Status: 408, Message: "Request timed out."}, ClassTimeout, true),
		{doc: "500 retried", step: a.ServerError(), class: ClassServerError, retried: true},
		dRow(a, "502 retried", llmretrytest.ErrorReply{Status: 502, Message: "Bad gateway."}, ClassServerError, true),
		dRow(a, "503 retried", llmretrytest.ErrorReply{Status: 503, Message: "Service unavailable."}, ClassOverloaded, true),
		dRow(a, "504 retried", llmretrytest.ErrorReply{Status: 504, Message: "Gateway timeout."}, ClassTimeout, true),
	}
	runRows(t, azureOpenAIPolicy, rows)
	sdkDefaults(t, azureOpenAIPolicy(), 4, defaultBaseDelay, defaultMaxDelay)
}
