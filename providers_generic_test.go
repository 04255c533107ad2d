package llmretry

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// realWorld are error answers as providers send them, seen by a policy that
// does not know the provider (through a proxy or gateway): what the generic
// policy must still get right, because the format is unambiguous.
var realWorld = []struct {
	name      string
	status    int
	header    http.Header
	body      string
	class     Class
	retryable bool
	hint      string
	wait      time.Duration
}{
	{"Google RetryInfo", 429, nil,
		`{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.837906927s"}]}}`,
		ClassRateLimited, true, hintBody, 1837906927 * time.Nanosecond},
	{"Google per-day QuotaFailure", 429, nil, geminiDaily, ClassQuotaExhausted, false, hintBody, 1837906927 * time.Nanosecond},
	{"Google limit: 0", 429, nil,
		`{"error":{"code":429,"message":"Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro","status":"RESOURCE_EXHAUSTED"}}`,
		ClassQuotaExhausted, false, noHint, 0},
	{"Google API_KEY_INVALID", 400, nil,
		`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`,
		ClassAuth, false, noHint, 0},
	{"Google UNAVAILABLE", 503, nil, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
		ClassOverloaded, true, noHint, 0},
	{"Gemini streaming array", 429, nil,
		`[{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}]`,
		ClassRateLimited, true, hintBody, 2 * time.Second},
	{"Anthropic overloaded_error", 529, http.Header{"X-Should-Retry": {"true"}},
		`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`, ClassOverloaded, true, noHint, 0},
	{"Anthropic enforced_spend_limit_reached", 429, nil,
		`{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your monthly spend cap.","details":{"error_code":"enforced_spend_limit_reached"}}}`,
		ClassQuotaExhausted, false, noHint, 0},
	{"Anthropic credit balance", 400, nil,
		`{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}`,
		ClassQuotaExhausted, false, noHint, 0},
	{"Bedrock x-amzn-ErrorType ThrottlingException", 429,
		http.Header{"X-Amzn-Errortype": {"ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
		`{"message":"Too many requests, please wait before trying again."}`, ClassRateLimited, true, noHint, 0},
	{"Bedrock per-day tokens", 429,
		http.Header{"X-Amzn-Errortype": {"ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
		`{"message":"Too many tokens per day, please wait before trying again."}`, ClassQuotaExhausted, false, noHint, 0},
	{"Bedrock ModelNotReadyException", 429,
		http.Header{"X-Amzn-Errortype": {"ModelNotReadyException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
		`{"message":"Model is not ready for inference. Wait and try your request again."}`, ClassModelOverloaded, true, noHint, 0},
	{"Bedrock ValidationException 400", 400,
		http.Header{"X-Amzn-Errortype": {"ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
		`{"message":"Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again."}`, ClassInvalidRequest, false, noHint, 0},
	// openai-go (internal/requestconfig shouldRetry): "res.StatusCode ==
	// http.StatusConflict": an OpenAI-compatible proxy's 409 is retried,
	// with a conflict code (the status decides) or without a body.
	{"409 conflict code, retried as openai-go does", 409, nil,
		`{"error":{"message":"conflict","type":"conflict","code":"conflict"}}`, ClassConflict, true, noHint, 0},
	{"409 conflict_error type, retried as anthropic-sdk-go does", 409, nil,
		`{"type":"error","error":{"type":"conflict_error","message":"The request conflicts with the current state of a resource."}}`, ClassConflict, true, noHint, 0},
	{"409 without a body", 409, nil, ``, ClassConflict, true, noHint, 0},
	{"conflict code on a 400: the code decides", 400, nil,
		`{"error":{"message":"conflict","type":"conflict","code":"conflict"}}`, ClassConflict, false, noHint, 0},
	{"Groq request too large (413)", 413, nil,
		`{"error":{"message":"Request too large for model ` + "`llama-3.3-70b-versatile`" + ` in organization ` + "`org_01abc`" + ` service tier ` + "`on_demand`" + ` on tokens per minute (TPM): Limit 12000, Requested 28563, please reduce your message size and try again.","type":"tokens","code":"rate_limit_exceeded"}}`,
		ClassInvalidRequest, false, noHint, 0},
	{"OpenAI request too large (429)", 429, http.Header{"Retry-After": {"1"}},
		`{"error":{"message":"Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 50000. The input or output tokens must be reduced in order to run successfully.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
		ClassInvalidRequest, false, hintRetryAfter, time.Second},
	{"Azure retry-after-ms", 429, http.Header{"Retry-After-Ms": {"6000"}, "Retry-After": {"6"}},
		`{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}}`,
		ClassRateLimited, true, hintRetryAfterMS, 6 * time.Second},
	{"Azure x-ms-retry-after-ms", 429, http.Header{"X-Ms-Retry-After-Ms": {"750"}},
		`{"error":{"code":"429","message":"Rate limit is exceeded."}}`, ClassRateLimited, true, hintRetryAfterMS, 750 * time.Millisecond},
	{"Azure content_filter", 400, nil,
		`{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}`,
		ClassContentFiltered, false, noHint, 0},
	{"Mistral object:error rate_limited", 429, nil,
		`{"object":"error","message":"Rate limit exceeded","type":"rate_limited","param":null,"code":"1300"}`, ClassRateLimited, true, noHint, 0},
	{"Mistral service tier capacity", 429, nil,
		`{"object":"error","message":"Service tier capacity exceeded for this model.","type":"invalid_request_error","param":null,"code":null}`, ClassModelOverloaded, true, noHint, 0},
	{"OpenRouter 402 numeric code", 402, nil,
		`{"error":{"code":402,"message":"This request requires more credits, or fewer max_tokens. You requested up to 4096 tokens, but can only afford 1000.","metadata":{}}}`,
		ClassQuotaExhausted, false, noHint, 0},
	{"DeepSeek 402 with code invalid_request_error", 402, nil,
		`{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}`, ClassQuotaExhausted, false, noHint, 0},
	{"xAI incorrect API key (400)", 400, nil,
		`{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***Y1. You can obtain an API key from https://console.x.ai."}`, ClassAuth, false, noHint, 0},
	{"xAI credits used up (403)", 403, nil,
		`{"code":"The caller does not have permission to execute the specified operation","error":"Your team has either used all available credits or reached its monthly spending limit."}`,
		ClassQuotaExhausted, false, noHint, 0},
	{"error as a code word", 429, nil, `{"error":"rate_limit_exceeded","message":"Too many requests"}`, ClassRateLimited, true, noHint, 0},
	{"error as a sentence", 429, nil, `{"error":"Too many requests, retry after 3 seconds"}`, ClassRateLimited, true, hintMessage, 3 * time.Second},
	{"Cerebras per day", 429, nil,
		`{"message":"Requests per day limit exceeded - too many requests sent.","type":"too_many_requests_error","param":"quota","code":"request_quota_exceeded"}`,
		ClassQuotaExhausted, false, noHint, 0},
	{"Together dynamic_token_limited", 429, nil,
		`{"error":{"message":"Request was rate limited","type":"dynamic_token_limited","param":null,"code":null}}`, ClassRateLimited, true, noHint, 0},
	{"OpenAI 503 server_error type", 503, nil,
		`{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`, ClassOverloaded, true, noHint, 0},
}

// TestGenericKnowsProviderFormats classifies real answers of every provider
// under the generic policy, as a proxy would pass them on.
func TestGenericKnowsProviderFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range realWorld {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			resp := &http.Response{StatusCode: tc.status, Header: h, ContentLength: -1, Body: io.NopCloser(bytes.NewReader([]byte(tc.body)))}
			v := genericPolicy().classify(resp, nil, testNow)
			if v.Class != tc.class || v.Retryable != tc.retryable {
				t.Errorf("class %v retryable %v; want %v %v (type %q code %q)", v.Class, v.Retryable, tc.class, tc.retryable, v.Type, v.Code)
			}
			if v.Hint != tc.hint || v.RetryAfter != tc.wait {
				t.Errorf("hint %v %v; want %v %v", v.Hint, v.RetryAfter, tc.hint, tc.wait)
			}
			if got, _ := io.ReadAll(resp.Body); string(got) != tc.body {
				t.Error("body not given back whole")
			}
		})
	}
}

// TestDialectsUnderPolicies sends every dialect's canned answers through its
// own policy and through the generic one (a proxy): both must retry what is
// worth retrying and nothing else, and agree on the class.
func TestDialectsUnderPolicies(t *testing.T) {
	t.Parallel()
	byName := map[string]func() *Policy{}
	for _, p := range Policies() {
		name := p.Name
		byName[name] = func() *Policy {
			for _, q := range Policies() {
				if q.Name == name {
					return q
				}
			}
			return nil
		}
	}
	// Where a provider's reference gives a shared code its own meaning, the
	// generic policy cannot know it: SambaNova's insufficient_quota is a rate
	// limit by tier; GPT-Gob's horde_unavailable and OpenRouter's 502/503 are
	// one model's overload; Cloudflare's numeric 3040 (a 429) is out of
	// capacity, and a bare number is no code the generic policy can trust.
	ownMeaning := map[string]bool{"sambanova/quota": true, "sambanova/rate limit": true,
		"gptgob/overloaded": true, "openrouter/overloaded": true, "openrouter/server error": true,
		"cloudflare/overloaded": true}
	for _, d := range llmretrytest.Dialects() {
		own := byName[d.String()]
		if own == nil {
			own = genericPolicy
		}
		cases := []struct {
			what    string
			step    llmretrytest.Step
			retried bool
		}{
			{"rate limit", d.RateLimit(2), true},
			{"quota", d.QuotaExhausted(), d == llmretrytest.Dialect("sambanova")},
			{"overloaded", d.Overloaded(1), true},
			{"server error", d.ServerError(), true},
		}
		for _, c := range cases {
			c := c
			t.Run(d.String()+"/"+c.what, func(t *testing.T) {
				t.Parallel()
				var classes [2]Class
				policies := []func() *Policy{own, genericPolicy}
				if ownMeaning[d.String()+"/"+c.what] {
					policies = policies[:1]
				}
				for i, p := range policies {
					tr, srv, _ := setup(t, p())
					srv.Enqueue(c.step)
					var first Verdict
					tr.Observer = onAttempt(func(a AttemptInfo) {
						if a.Attempt == 1 {
							first = a.Verdict
						}
					})
					if _, _, err := post(t, tr, srv.URL); err != nil {
						t.Fatal(err)
					}
					classes[i] = first.Class
					if got := len(srv.Requests()) == 2; got != c.retried {
						t.Errorf("%s: retried = %v, want %v (class %v, %d %s)", p().Name, got, c.retried, first.Class, c.step.Status, c.step.Body)
					}
				}
				if len(policies) == 2 && classes[0] != classes[1] {
					t.Errorf("own policy says %v, generic %v", classes[0], classes[1])
				}
			})
		}
	}
}
