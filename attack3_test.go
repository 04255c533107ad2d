package llmretry

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wireOf writes r as net/http would put it on the wire (trailers too), ASCII
// lower-cased, and once more decoded as a server reads escapes.
func wireOf(t *testing.T, r *http.Request) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatalf("write: %v", err)
	}
	w := strings.ToLower(b.String())
	if d, err := url.PathUnescape(strings.ReplaceAll(w, "%%", "")); err == nil {
		w += "\n" + strings.ToLower(d)
	}
	return w
}

// TestAttack3FallbackCredentialPlacements puts the first endpoint's secret
// where the authors' tests do not, and reads what the fallback would send.
func TestAttack3FallbackCredentialPlacements(t *testing.T) {
	const secret = "sk-live+Abc/Def=0123456789"
	lower := strings.ToLower(secret)
	body := `{"model":"a","messages":[]}`
	cases := []struct {
		name string
		mk   func() *http.Request
		fb   Target
	}{
		{"trailer declared in odd casing", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(body))
			r.ContentLength = -1
			r.Trailer = http.Header{"aUtHoRiZaTiOn": {"Bearer " + secret}}
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"cookie crumbs, one echoed elsewhere", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(body))
			r.Header.Set("Cookie", "theme=dk; sid="+secret+"; lang=en")
			r.Header.Set("X-Debug", "sid="+secret)
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"query escapes the header's secret in lower-case hex", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat?trace=sk-live%2babc%2fdef%3d0123456789&x=1", strings.NewReader(body))
			r.Header.Set("X-Api-Key", secret)
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"query escapes every byte", func() *http.Request {
			var e strings.Builder
			for i := 0; i < len(secret); i++ {
				e.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[secret[i]>>4])+string("0123456789abcdef"[secret[i]&15])))
			}
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat?ref="+e.String(), strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+secret)
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"IPv6 literal hosts, BaseURL with a fragment", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://[::1]:8080/v1/chat?api_key="+url.QueryEscape(secret), strings.NewReader(body))
			return r
		}, Target{BaseURL: "http://[fe80::1]:9090/openai#frag?key=x", StripPrefix: "/v1"}},
		{"RawPath that disagrees with Path", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(body))
			r.URL.RawPath = "/v1/" + url.PathEscape(secret)
			r.Header.Set("Authorization", "Bearer "+secret)
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"Basic password echoed in a Referer", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(body))
			r.SetBasicAuth("user", secret)
			r.Header.Set("Referer", "https://a.example/?p="+url.QueryEscape(secret))
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"secret in a header name's value, JSON-escaped", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(body))
			r.Header.Set("X-Api-Key", secret)
			r.Header.Set("X-Meta", `{"k":"`+strings.ReplaceAll(secret, "/", `\/`)+`"}`)
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1", Model: "b"}},
		{"secret as a query parameter's name", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat?"+url.QueryEscape(secret)+"&x=1", strings.NewReader(body))
			r.Header.Set("Api-Key", secret)
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
		{"secret as a header's name", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(body))
			r.Header.Set("Api-Key", secret)
			r.Header["X-Sk-Live+Abc"] = []string{"1"} // a token may hold "+": the secret's first 11 bytes
			return r
		}, Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.mk()
			b, _ := io.ReadAll(req.Body)
			get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
			r, fget, err := fallbackRequest(req, get, 0, &tc.fb)
			if err != nil {
				t.Skipf("skipped target: %v", err)
			}
			rc, _ := fget()
			r.Body = rc
			w := wireOf(t, r)
			plain := strings.NewReplacer("+", "", "/", "", "=", "").Replace(lower)
			for _, s := range []string{lower, url.QueryEscape(lower), url.PathEscape(lower), plain, "sk-live"} {
				if strings.Contains(w, strings.ToLower(s)) {
					t.Errorf("fallback request holds %q:\n%s", s, w)
				}
			}
		})
	}
}

// TestAttack3LongWindowIdentifiers: a 429 that names a per-minute limit is
// not read as a daily quota because a model, a fine-tune or an organization
// named in it holds a unit word ("hermes-daily-7b"); the windows written
// with separators still count.
func TestAttack3LongWindowIdentifiers(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{"You have reached the rate limit specific to this model acme/hermes-daily-7b. The maximum rate limit for this model is 6.0 queries and 180000 tokens per minute.", false},
		{"Rate limit reached for ft:gpt-4o-mini-2024-07-18:acme:weekly-digest:AbC123 on tokens per min (TPM)", false},
		{"Rate limit reached for model `day-trader-7b` on requests per minute", false},
		{"Rate limit reached for meta-llama/Llama-3-8b-monthly-report in org_01 (requests per minute)", false},
		{"Rate limit reached for model superdays on requests per minute", false},
		{"Rate limit reached for model paperweekly on requests per minute", false},
		{"Quota exceeded for metric GenerateContentInputTokensPerModelPerDay-FreeTier", true},
		{"quota id GenerateRequestsPerDayPerProjectPerModel", true},
		{"tokensperday", true},
		{"Rate limit exceeded, see https://ai.example.dev/docs/rate-limits#daily-limits for details.", false},
		{"Rate limit exceeded: 1000 requests per day, see https://ai.example.dev/docs/rate-limits", true},
		// Still windows.
		{"limit:1000/day", true},
		{"the-24-hour-window is full", true},
		{"the 30-day quota is exhausted", true},
		{"requests_per_day exceeded", true},
		{"Rate limit reached for model `llama-3-8b` on requests per day (RPD)", true},
		{"limit 1000 tpd for gemma-7b", true},
	} {
		var buf [maxMessage]byte
		if got := longWindow(lowerInto(buf[:0], tt.msg)); got != tt.want {
			t.Errorf("longWindow(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
	// And through Classify: the per-minute 429 without a hint is retried.
	resp := &http.Response{StatusCode: 429, ContentLength: -1, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"error":{"type":"rate_limit_exceeded","message":"You have reached the rate limit specific to this model acme/hermes-daily-7b. The maximum rate limit for this model is 6.0 queries and 180000 tokens per minute."}}`))}
	if v := genericPolicy().Classify(resp, nil); v.Class != ClassRateLimited || !v.Retryable {
		t.Errorf("per-minute 429 naming hermes-daily-7b: %v retryable=%v, want rate_limited, retried", v.Class, v.Retryable)
	}
}

// TestAttack3SigV4SignedHeadersAreNotSecrets: the header names an AWS SigV4
// Authorization lists in SignedHeaders are not credentials: a fallback keeps
// the request's Content-Type, and an error that names the header is not
// redacted.
func TestAttack3SigV4SignedHeadersAreNotSecrets(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke", strings.NewReader(`{"model":"m"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024")
	b, _ := io.ReadAll(req.Body)
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	fb := &Target{BaseURL: "https://b.example"}
	r, _, err := fallbackRequest(req, get, 0, fb)
	if err != nil {
		t.Fatalf("fallback skipped: %v", err)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("fallback request lost its Content-Type: %v", r.Header)
	}
	if r.Header.Get("Authorization") != "" {
		t.Errorf("fallback request kept the signature")
	}
	msg := "missing header content-type or x-amz-date"
	if got := requestSecrets(req).redact(msg); got != msg {
		t.Errorf("redact(%q) = %q", msg, got)
	}
	if requestSecrets(req).redact("AKIAIOSFODNN7EXAMPLE fe5f80f77d5fa3be") != "[redacted] [redacted]" {
		t.Errorf("SigV4's credential and signature are no longer secrets")
	}

	// Digest: its uri is the request's path, which a fallback must not take
	// for a credential (a path that holds one skips the target).
	req, _ = http.NewRequest("POST", "https://a.example/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
	req.Header.Set("Authorization", `Digest username="averylonguser", realm="llm-gateway-realm", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/v1/chat/completions", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", algorithm=SHA-256`)
	b, _ = io.ReadAll(req.Body)
	r, fget, err := fallbackRequest(req, get, 0, &Target{BaseURL: "https://b.example/v1", StripPrefix: "/v1"})
	if err != nil {
		t.Fatalf("Digest request: fallback skipped: %v", err)
	}
	r.Body, _ = fget()
	if w := wireOf(t, r); strings.Contains(w, "6629fae49393a053") || strings.Contains(w, "averylonguser") {
		t.Errorf("Digest credentials reached the fallback:\n%s", w)
	}
}
