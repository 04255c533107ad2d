package llmretry

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHostileProviderBodies feeds garbage in every new body shape and header
// to every policy: a clear verdict, bounded fields, plausible waits, the body
// given back whole, never a panic.
func TestHostileProviderBodies(t *testing.T) {
	t.Parallel()
	manyDetails := `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[` +
		strings.Repeat(`{"@type":"type.googleapis.com/google.rpc.Help","links":[{"url":"x"}]},`, 800) +
		`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}`
	manyHeaders := `{"error":{"code":429,"message":"m","metadata":{"headers":{` +
		strings.Repeat(`"X-Ratelimit-Reset":"1",`, 2000) + `"k":"v"}}}}`
	bodies := []struct {
		name, body string
		header     http.Header
	}{
		{"absurd retryDelay", `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"99999999999s"}]}}`, nil},
		{"negative retryDelay", `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-3s"}]}}`, nil},
		{"exponent retryDelay", `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1e3s"}]}}`, nil},
		{"numeric retryDelay", `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":5}]}}`, nil},
		{"object @type", `{"error":{"details":[{"@type":{"a":"google.rpc.RetryInfo"},"retryDelay":"5s"}]}}`, nil},
		{"escaped keys", `{"error":{"details":[{"\u0040type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"5s"}]}}`, nil},
		{"details of scalars", `{"error":{"details":[1,"google.rpc.RetryInfo",null,true,[]]}}`, nil},
		{"details a string", `{"error":{"details":"google.rpc.RetryInfo"}}`, nil},
		{"800 details", manyDetails, nil},
		{"violations not objects", `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[1,"PerDay",[{"quotaId":"PerDay"}]]}]}}`, nil},
		{"metadata reset garbage", `{"error":{"code":429,"metadata":{"headers":{"X-RateLimit-Reset":"soon"},"raw":123}}}`, nil},
		{"metadata reset far future", `{"error":{"code":429,"metadata":{"headers":{"X-RateLimit-Reset":"99999999999999"}}}}`, nil},
		{"2000 metadata headers", manyHeaders, nil},
		{"raw of 60 KiB", `{"error":{"code":429,"metadata":{"raw":"` + strings.Repeat("retry in 5s ", 5000) + `"}}}`, nil},
		{"error_code an array", `{"type":"error","error":{"type":"rate_limit_error","details":{"error_code":["enforced_spend_limit_reached"]}}}`, nil},
		{"__type garbage", `{"__type":"###:::","message":"x"}`, nil},
		{"huge x-amzn-ErrorType", `{"message":"x"}`, http.Header{"X-Amzn-Errortype": {strings.Repeat("ThrottlingException", 10000) + ":http://x"}}},
		{"empty x-amzn-ErrorType", `{"message":"x"}`, http.Header{"X-Amzn-Errortype": {""}}},
		{"x-ms-retry-after-ms garbage", `{}`, http.Header{"X-Ms-Retry-After-Ms": {"-1", "NaN"}}},
		{"limit/requested overflow", `{"error":{"message":"Limit 99999999999999999999999999, Requested 999999999999999999999999999999","code":"rate_limit_exceeded"}}`, nil},
		{"array of junk", `[` + strings.Repeat(`[`, 31) + strings.Repeat(`]`, 31) + `]`, nil},
		{"unbalanced array", `[{"error":{"code":429}`, nil},
		{"string error with code word and message", `{"error":"` + strings.Repeat("a", 64) + `","message":"m"}`, nil},
	}
	for _, tc := range bodies {
		for _, p := range Policies() {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			for _, status := range []int{400, 402, 413, 429, 503, 529} {
				resp := &http.Response{StatusCode: status, Header: h, ContentLength: -1, Body: io.NopCloser(strings.NewReader(tc.body))}
				v := p.classify(resp, nil, testNow)
				if v.Class == ClassOK {
					t.Errorf("%s/%s/%d: class ok for an error", tc.name, p.Name, status)
				}
				if len(v.Message) > maxMessage || len(v.Code) > maxErrorBody || (tc.header != nil && len(v.Code) > maxField) {
					t.Errorf("%s/%s: unbounded field: message %d, code %d bytes", tc.name, p.Name, len(v.Message), len(v.Code))
				}
				if v.RetryAfter < 0 || v.RetryAfter > maxPlausibleHint || (v.Hint == noHint && v.RetryAfter != 0) {
					t.Errorf("%s/%s: hint %v %v", tc.name, p.Name, v.Hint, v.RetryAfter)
				}
				if got, _ := io.ReadAll(resp.Body); !bytes.Equal(got, []byte(tc.body)) {
					t.Errorf("%s/%s: body changed", tc.name, p.Name)
				}
			}
		}
	}
	// Specific verdicts: garbage waits are ignored, not trusted.
	for _, tc := range []struct {
		body string
		hint string
	}{
		{`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"99999999999s"}]}}`, noHint},
		{`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-3s"}]}}`, noHint},
		{`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1e3s"}]}}`, noHint},
		{manyDetails, hintBody},
		{`{"error":{"code":429,"metadata":{"headers":{"X-RateLimit-Reset":"soon"}}}}`, noHint},
	} {
		resp := &http.Response{StatusCode: 429, Header: http.Header{}, ContentLength: -1, Body: io.NopCloser(strings.NewReader(tc.body))}
		if v := genericPolicy().classify(resp, nil, testNow); v.Hint != tc.hint {
			t.Errorf("%.60s…: hint %v, want %v", tc.body, v.Hint, tc.hint)
		}
	}
}
