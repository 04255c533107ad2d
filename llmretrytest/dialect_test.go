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
		{Dialect("gemini"), `{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"},"reason":"c"}],"message":"m","status":"t"}}`, ""},
		{Dialect("anthropic"), `{"error":{"details":{"error_code":"c"},"message":"m","type":"t"},"type":"error"}`, ""},
		{Dialect("azure-openai"), `{"error":{"code":"c","message":"m","type":"t"}}`, "Apim-Request-Id: 5f1b2c3d-0000-4444-8888-abcdef012345"},
		{Dialect("bedrock"), `{"message":"m"}`, "X-Amzn-Errortype: c:http://internal.amazon.com/coral/com.amazon.bedrock/"},
		{Dialect("mistral"), `{"code":"c","message":"m","object":"error","param":null,"type":"t"}`, ""},
		{Dialect("xai"), `{"code":"c","error":"m"}`, ""},
		{Dialect("deepseek"), `{"error":{"code":"c","message":"m","type":"t"}}`, ""},
		{Dialect("groq"), `{"error":{"code":"c","message":"m","type":"t"}}`, "X-Request-Id: req_01jabcdefghjkmnpqrstvwxyz0"},
		{Dialect("fireworks"), `{"error":{"code":"c","message":"m","object":"error","type":"t"}}`, ""},
		{Dialect("together"), `{"error":{"code":"c","message":"m","type":"t"}}`, ""},
		{Dialect("openrouter"), `{"error":{"code":429,"message":"m","metadata":{"provider_name":"c","raw":"t"}},"user_id":"user_2abc"}`, ""},
		{Dialect("cloudflare"), `{"errors":[{"code":"c","message":"m"}],"messages":[],"result":null,"success":false}`, "Cf-Ray: 8f0c1d2e3a4b5c6d-AMS"},
		{Dialect("cohere"), `{"message":"m"}`, ""},
		{Dialect("vllm"), `{"error":{"code":429,"message":"m","param":null,"type":"t"}}`, ""},
		{Dialect("tgi"), `{"error":"m","error_type":"t"}`, ""},
		{Dialect("ollama"), `{"error":"m"}`, ""},
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
	if got := string(Dialect("cloudflare").QuotaExhausted().Body); got != `{"errors":[{"code":3036,"message":"You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage."}],"messages":[],"result":null,"success":false}` {
		t.Errorf("cloudflare quota: %s", got)
	}
	// Google's wait is in the body only: RetryInfo's retryDelay, no Retry-After.
	g := Dialect("gemini").RateLimit(3)
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
	if b := Dialect("bedrock").RateLimit(3); b.Header.Get("Retry-After") != "" {
		t.Error("bedrock: Bedrock sends no Retry-After")
	}
	// Every dialect has a distinct name.
	seen := map[string]bool{}
	for _, d := range Dialects() {
		if seen[d.String()] {
			t.Errorf("duplicate dialect name %q", d)
		}
		seen[d.String()] = true
	}
	// An unknown dialect, and the zero Dialect, answer in the generic
	// OpenAI-compatible shape, as "openai" does.
	for _, d := range []Dialect{"nope", ""} {
		for _, pair := range [][2]Step{
			{d.RateLimit(3), Dialect("openai").RateLimit(3)},
			{d.QuotaExhausted(), Dialect("openai").QuotaExhausted()},
			{d.AbortedStream(1), Dialect("openai").AbortedStream(1)},
		} {
			if got, want := pair[0], pair[1]; got.Status != want.Status || string(got.Body) != string(want.Body) ||
				got.Header.Get("Retry-After") != want.Header.Get("Retry-After") {
				t.Errorf("Dialect(%q): %d %s, want openai's %d %s", d, got.Status, got.Body, want.Status, want.Body)
			}
		}
	}
}
