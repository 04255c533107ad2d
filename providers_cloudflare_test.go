package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func cfRow(doc string, status int, code string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("cloudflare"), doc, llmretrytest.ErrorReply{Status: status, Code: code}, class, retried)
}

// TestCloudflareWorkersAI covers Workers AI's errors page
// (developers.cloudflare.com/workers-ai/platform/errors/, "Below is a list of
// Workers AI errors.": Name | Internal Code | HTTP Code | Description), in
// Cloudflare's API envelope {"success":false,"errors":[{"code","message"}]}.
// The page says nothing of retries or wait hints; a code it lists decides
// the class, and a status it does not list falls to the generic rules, as
// Cloudflare's SDKs do (they retry 408, 409, 429 and 5xx). The OpenAI-compatible
// endpoints (/ai/v1/…) are not documented separately: the same codes apply.
func TestCloudflareWorkersAI(t *testing.T) {
	t.Parallel()
	cf := llmretrytest.Dialect("cloudflare")
	rows := []providerRow{
		// "No such model | 5007 | 400 | No such model ${model} or task"
		cfRow("No such model ${model} or task", 400, "5007", ClassNotFound, false),
		// "Invalid data | 5004 | 400 | Invalid data type for base64 input: ${type}"
		cfRow("Invalid data type for base64 input: ${type}", 400, "5004", ClassInvalidRequest, false),
		// "Finetune missing required files | 3039 | 400 | Finetune is missing required files (model.safetensors and config.json)"
		cfRow("Finetune is missing required files (model.safetensors and config.json)", 400, "3039", ClassInvalidRequest, false),
		// "Incomplete request | 3003 | 400 | Request is missing headers or body: {what}"
		cfRow("Request is missing headers or body: {what}", 400, "3003", ClassInvalidRequest, false),
		// "Account not allowed for private model | 5018 | 403 | The account is not allowed to access this model"
		cfRow("5018 The account is not allowed to access this model", 403, "5018", ClassPermission, false),
		// "Model agreement | 5016 | 403 | User has not agreed to Llama3.2 model terms"
		cfRow("User has not agreed to Llama3.2 model terms", 403, "5016", ClassPermission, false),
		// "Account blocked | 3023 | 403 | Service unavailable for account": a 403, not an outage.
		cfRow("Service unavailable for account", 403, "3023", ClassPermission, false),
		// "Account not allowed for private model | 3041 | 403 | The account is not allowed to access this model"
		cfRow("3041 The account is not allowed to access this model", 403, "3041", ClassPermission, false),
		// "Deprecated SDK version | 5019 | 405 | Request trying to use deprecated SDK version"
		cfRow("Request trying to use deprecated SDK version", 405, "5019", ClassInvalidRequest, false),
		// "LoRa unsupported | 5005 | 405 | The model ${this.model} does not support LoRa inference"
		cfRow("The model ${this.model} does not support LoRa inference", 405, "5005", ClassInvalidRequest, false),
		// "Invalid model ID | 3042 | 404 | The model name is invalid"
		cfRow("The model name is invalid", 404, "3042", ClassNotFound, false),
		// "Request too large | 3006 | 413 | Request is too large"
		cfRow("Request is too large", 413, "3006", ClassInvalidRequest, false),
		// "Timeout | 3007 | 408 | Request timeout"
		cfRow("Request timeout", 408, "3007", ClassTimeout, true),
		// "Aborted | 3008 | 408 | Request was aborted": the page does not say
		// who aborted; a 408 is retried, as the SDKs do.
		cfRow("Request was aborted", 408, "3008", ClassTimeout, true),
		// "Account limited | 3036 | 429 | You have used up your daily free allocation of 10,000 neurons.
		// Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage."
		// The pricing page: "All limits reset daily at 00:00 UTC." Not retried, even with a short Retry-After.
		{doc: "3036 Account limited (daily free allocation)", step: cf.QuotaExhausted(), class: ClassQuotaExhausted},
		dRow(cf, "3036 with Retry-After: 1", llmretrytest.ErrorReply{Status: 429, Code: "3036", RetryAfter: 1,
			Message: "You have used up your daily free allocation of 10,000 neurons."}, ClassQuotaExhausted, false),
		// "Out of capacity | 3040 | 429 | No more data centers to forward the request to"
		{doc: "3040 Out of capacity", step: cf.Overloaded(0), class: ClassOverloaded, retried: true},
		// Cloudflare's API limits (developers.cloudflare.com/fundamentals/api/reference/limits):
		// "retry-after: The number of seconds, rounded up, until more capacity is available."
		// The 429 body, as users report it: {"code":971,"message":"Please wait and consider throttling your request speed"}.
		{doc: "429 code 971, Retry-After: 2", step: cf.RateLimit(2), class: ClassRateLimited, retried: true, wait: 2 * time.Second, requestID: true},
		// "If you exceed this limit, all API calls for the next five minutes will be blocked":
		// a wait past MaxWait returns the 429 at once.
		dRow(cf, "429 code 971, Retry-After: 300", llmretrytest.ErrorReply{Status: 429, Code: "971", RetryAfter: 300,
			Message: "Please wait and consider throttling your request speed"}, ClassRateLimited, false),
		// The RateLimit header fields it sends ("default";r=0;t=3) give the wait when Retry-After is missing.
		rawRow("429 with RateLimit: \"default\";r=0;t=3", 429, http.Header{"Ratelimit": {`"default";r=0;t=3`}, "Ratelimit-Policy": {`"default";q=1200;w=300`}},
			`{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}`,
			ClassRateLimited, true, 3*time.Second),
		// A 429 without a code: a rate limit, retried.
		dRow(cf, "429 without a code", llmretrytest.ErrorReply{Status: 429, Message: "Too many requests"}, ClassRateLimited, true),
		// Statuses the page does not list: the generic rules.
		{doc: "500 (not listed)", step: cf.ServerError(), class: ClassServerError, retried: true},
		cfRow("401 Authentication error (Cloudflare API code 10000)", 401, "10000", ClassAuth, false),
	}
	runRows(t, cloudflareWorkersAIPolicy, rows)
	sdkDefaults(t, cloudflareWorkersAIPolicy(), 3, defaultBaseDelay, defaultMaxDelay)
}
