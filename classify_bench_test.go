package llmretry

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// benchResponses are error answers as providers send them, for the
// classification benchmarks. Keep the set stable: benchstat compares runs of
// the same names before and after a change.
var benchResponses = []struct {
	name   string
	status int
	header http.Header
	body   string
}{
	{"openai-429", 429, http.Header{
		"Content-Type": {"application/json"}, "X-Request-Id": {"req_4f6b1c2d3e"},
		"X-Ratelimit-Limit-Tokens": {"30000"}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"1.2s"},
		"X-Ratelimit-Limit-Requests": {"500"}, "X-Ratelimit-Remaining-Requests": {"499"}, "X-Ratelimit-Reset-Requests": {"120ms"},
	}, `{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 1500. Please try again in 1.2s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`},
	{"anthropic-529", 529, http.Header{
		"Content-Type": {"application/json"}, "Request-Id": {"req_011CSHoEeqs5C35K2UUqR7Fy"}, "X-Should-Retry": {"true"},
	}, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`},
	{"gemini-429", 429, http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, `{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10\nPlease retry in 1.837906927s.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
          {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": "gemini-2.0-flash"},
            "quotaValue": "10"
          }
        ]
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]
      },
      {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "1s"
      }
    ]
  }
}
`},
	{"bedrock-throttling", 429, http.Header{
		"Content-Type": {"application/json"}, "X-Amzn-Requestid": {"0b1c2d3e-4f56-7890-abcd-ef0123456789"},
		"X-Amzn-Errortype": {"ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"},
	}, `{"message":"Too many requests, please wait before trying again."}`},
	{"mistral-429", 429, http.Header{"Content-Type": {"application/json"}},
		`{"object":"error","message":"Requests rate limit exceeded","type":"rate_limited","param":null,"code":"1300"}`},
	{"openrouter-402", 402, http.Header{"Content-Type": {"application/json"}},
		`{"error":{"code":402,"message":"This request requires more credits, or fewer max_tokens. You requested up to 4096 tokens, but can only afford 1000.","metadata":{}},"user_id":"user_2abc"}`},
	{"azure-429", 429, http.Header{
		"Content-Type": {"application/json"}, "Retry-After": {"6"}, "Retry-After-Ms": {"6000"}, "Apim-Request-Id": {"5f1b2c3d-0000-4444-8888-abcdef012345"},
		"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Remaining-Tokens": {"0"},
	}, `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}}`},
	{"groq-413", 413, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_01jabc"}},
		`{"error":{"message":"Request too large for model ` + "`llama-3.3-70b-versatile`" + ` in organization ` + "`org_01abc`" + ` service tier ` + "`on_demand`" + ` on tokens per minute (TPM): Limit 12000, Requested 28563, please reduce your message size and try again. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing","type":"tokens","code":"rate_limit_exceeded"}}`},
	{"html-502", 502, http.Header{"Content-Type": {"text/html"}},
		"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"},
	{"openai-500", 500, http.Header{"Content-Type": {"application/json"}},
		`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`},
}

// BenchmarkClassify measures the classification of representative error
// answers under the generic policy (what a proxy's answers get):
//
//	go test -run '^$' -bench 'Classify|HintParsers|PolicyFor' -benchmem -count 10 .
func BenchmarkClassify(b *testing.B) {
	for _, tc := range benchResponses {
		b.Run("resp="+tc.name, func(b *testing.B) {
			p := genericPolicy()
			body := []byte(tc.body)
			r := bytes.NewReader(body)
			resp := &http.Response{StatusCode: tc.status, Header: tc.header, ContentLength: int64(len(body))}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r.Reset(body)
				resp.Body = io.NopCloser(r)
				_ = p.classify(resp, nil, testNow)
			}
		})
	}
}

// BenchmarkHintParsers measures each wait-hint parser on a typical value.
func BenchmarkHintParsers(b *testing.B) {
	msg := "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 1500. Please try again in 1.2s. Visit https://platform.openai.com/account/rate-limits to learn more."
	h := http.Header{"Retry-After": {"6"}, "Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"retry-after-seconds", func() { parseRetryAfter("12", testNow) }},
		{"retry-after-date", func() { parseRetryAfter("Sun, 22 Nov 2026 12:00:30 GMT", testNow) }},
		{"reset-duration", func() { parseReset("6m0s", testNow) }},
		{"reset-epoch", func() { parseReset("1795348830", testNow) }},
		{"message", func() { parseMessageHint(msg) }},
		{"headers", func() { headerHint(h, testNow) }},
	} {
		b.Run("parser="+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tc.f()
			}
		})
	}
}

// BenchmarkPolicyFor measures picking a request's policy by its host.
func BenchmarkPolicyFor(b *testing.B) {
	tr := &Transport{}
	for _, host := range []string{"api.cerebras.ai", "unknown.example.com"} {
		req, _ := http.NewRequest(http.MethodPost, "https://"+host+"/v1/chat/completions", nil)
		b.Run("host="+host, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = tr.policyFor(req, requestOptions{})
			}
		})
	}
}
