package llmretrytest

import (
	"encoding/json"
	"testing"
)

// TestDialectShapes pins each dialect's exact body and the headers that carry
// its error facts.
func TestDialectShapes(t *testing.T) {
	t.Parallel()
	e := ErrorReply{Status: 429, Type: "t", Code: "c", Message: "m"}
	tests := []struct {
		d      Dialect
		body   string
		header string // a header the dialect must set, "Name: value"
	}{
		{Gemini, `{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"},"reason":"c"}],"message":"m","status":"t"}}`, ""},
		{Anthropic, `{"error":{"details":{"error_code":"c"},"message":"m","type":"t"},"type":"error"}`, ""},
		{AzureOpenAI, `{"error":{"code":"c","message":"m","type":"t"}}`, "Apim-Request-Id: 5f1b2c3d-0000-4444-8888-abcdef012345"},
		{Bedrock, `{"message":"m"}`, "X-Amzn-Errortype: c:http://internal.amazon.com/coral/com.amazon.bedrock/"},
		{Mistral, `{"code":"c","message":"m","object":"error","param":null,"type":"t"}`, ""},
		{XAI, `{"code":"c","error":"m"}`, ""},
		{DeepSeek, `{"error":{"code":"c","message":"m","type":"t"}}`, ""},
		{Groq, `{"error":{"code":"c","message":"m","type":"t"}}`, "X-Request-Id: req_01jabcdefghjkmnpqrstvwxyz0"},
		{Fireworks, `{"error":{"code":"c","message":"m","object":"error","type":"t"}}`, ""},
		{Together, `{"error":{"code":"c","message":"m","type":"t"}}`, ""},
		{OpenRouter, `{"error":{"code":429,"message":"m","metadata":{"provider_name":"c","raw":"t"}},"user_id":"user_2abc"}`, ""},
		{Cloudflare, `{"errors":[{"code":"c","message":"m"}],"messages":[],"result":null,"success":false}`, "Cf-Ray: 8f0c1d2e3a4b5c6d-AMS"},
		{Cohere, `{"message":"m"}`, ""},
		{VLLM, `{"error":{"code":429,"message":"m","param":null,"type":"t"}}`, ""},
		{TGI, `{"error":"m","error_type":"t"}`, ""},
		{Ollama, `{"error":"m"}`, ""},
	}
	for _, tt := range tests {
		st := tt.d.Error(e)
		if got := string(st.Body); got != tt.body {
			t.Errorf("%v: %s\nwant %s", tt.d, got, tt.body)
		}
		if tt.header != "" {
			var k, v string
			for i := 0; i < len(tt.header); i++ {
				if tt.header[i] == ':' {
					k, v = tt.header[:i], tt.header[i+2:]
					break
				}
			}
			if got := st.Header.Get(k); got != v {
				t.Errorf("%v: %s = %q, want %q", tt.d, k, got, v)
			}
		}
	}
	// Cloudflare writes its numeric codes as numbers.
	if got := string(Cloudflare.Quota().Body); got != `{"errors":[{"code":3036,"message":"You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage."}],"messages":[],"result":null,"success":false}` {
		t.Errorf("cloudflare quota: %s", got)
	}
	// Google's wait is in the body only: RetryInfo's retryDelay, no Retry-After.
	g := Gemini.RateLimit(3)
	if g.Header.Get("Retry-After") != "" {
		t.Error("gemini: Google sends no Retry-After")
	}
	var body struct {
		Error struct {
			Details []map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(g.Body, &body); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range body.Error.Details {
		if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo" && d["retryDelay"] == "3s" {
			found = true
		}
	}
	if !found {
		t.Errorf("gemini: no RetryInfo retryDelay 3s in %s", g.Body)
	}
	// Bedrock gives no wait hint at all.
	if b := Bedrock.RateLimit(3); b.Header.Get("Retry-After") != "" {
		t.Error("bedrock: Bedrock sends no Retry-After")
	}
	// Every dialect has a distinct name that ParseDialect reads back.
	seen := map[string]bool{}
	for _, d := range Dialects() {
		if seen[d.String()] {
			t.Errorf("duplicate dialect name %q", d)
		}
		seen[d.String()] = true
	}
	if _, ok := ParseDialect("nope"); ok {
		t.Error("ParseDialect accepted an unknown name")
	}
	if got := Dialect(200).String(); got != "dialect(200)" {
		t.Errorf("unknown dialect String = %q", got)
	}
}
