package llmretry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Every parser has a fuzz target; the seed corpus is in testdata/fuzz.
// CI runs each for a few seconds: go test -run '^$' -fuzz '^FuzzX$' -fuzztime 10s -fuzzminimizetime 1s .

func checkHint(t *testing.T, what string, d time.Duration, ok bool) {
	t.Helper()
	if ok && (d < 0 || d > maxPlausibleHint) {
		t.Fatalf("%s gave %v, outside [0, %v]", what, d, maxPlausibleHint)
	}
	if !ok && d != 0 {
		t.Fatalf("%s rejected the value but returned %v", what, d)
	}
}

func FuzzWaitHints(f *testing.F) {
	for _, s := range []string{"12", "1.5", "-1", "Sun, 22 Nov 2026 12:00:30 GMT", "1767225600", "1767225600000",
		"6m0s", "2m59.56s", "17ms", "2026-11-22T12:00:42Z", "NaN", "1e308", "99999999999999999999", "0x1p4", " 7 ",
		"1.837906927s", "-1s", "s", "1e9s", "Please retry in 37.5s."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, testNow)
		checkHint(t, "parseRetryAfter", d, ok)
		d, ok = parseMillis(s)
		checkHint(t, "parseMillis", d, ok)
		d, ok = parseReset(s, testNow)
		checkHint(t, "parseReset", d, ok)
		d, ok = parseMessageHint(s)
		checkHint(t, "parseMessageHint", d, ok)
		d, ok = parseGoDuration(s)
		checkHint(t, "parseGoDuration", d, ok)
		d, ok = parseProtoDuration(s)
		checkHint(t, "parseProtoDuration", d, ok)
	})
}

func FuzzErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":{"type":"rate_limit_exceeded","code":"gremlin_in_the_pipes","message":"come back in 12s.","param":null,"retry_after":12}}`,
		`{"error":"Error message","code":"ERROR_CODE","status":400,"details":{}}`,
		`{"message":"m","type":"t","param":"p","code":42}`,
		`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
		`{"detail":"x"}`, `[[[[[[`, `{"error":{"error":{"error":{}}}}`, `{"retry_after":"1e400"}`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		eb := parseErrorBody(b)
		if eb.HasRetryAfter {
			checkHint(t, "retry_after", eb.RetryAfter, true)
		}
		if len(eb.Raw) > maxMessageScan {
			t.Fatalf("metadata.raw of %d bytes", len(eb.Raw))
		}
		if d, ok := parseReset(eb.Reset, testNow); ok {
			checkHint(t, "metadata reset", d, ok)
		}
		// The in-place walk never reads past what it is given.
		var d wireDetails
		d.google(b)
		if d.hasDelay {
			checkHint(t, "RetryInfo", d.delay, true)
		}
	})
}

// FuzzClassify sends an arbitrary error answer through classification and
// the retry decision: the caller gets the body back byte for byte, and the
// chosen wait is never outside [0, MaxWait].
func FuzzClassify(f *testing.F) {
	f.Add(uint16(429), "Retry-After: 3\nX-RateLimit-Reset: 1767225600", []byte(`{"error":{"code":"rate_limit_exceeded"}}`))
	f.Add(uint16(503), "Retry-After-Ms: -4\nX-Should-Retry: true", []byte(`{"error":{"message":"Please retry after 60 seconds."}}`))
	f.Add(uint16(429), "X-Ratelimit-Remaining-Tokens: 0\nX-Ratelimit-Reset-Tokens: 6m0s", []byte(`{"error":"x","code":"RATE_LIMIT_EXCEEDED"}`))
	f.Add(uint16(29), "X-Amzn-Errortype: ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", []byte(`{"message":"Too many tokens per day"}`))
	f.Add(uint16(29), "X-Ms-Retry-After-Ms: 1500", []byte(`{"error":{"code":"429","message":"Please retry after 6 seconds."}}`))
	f.Add(uint16(29), "", []byte(`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`))
	f.Add(uint16(13), "", []byte(`{"error":{"message":"Request too large: Limit 6000, Requested 9000","code":"rate_limit_exceeded"}}`))
	f.Fuzz(func(t *testing.T, status uint16, headers string, body []byte) {
		h := http.Header{}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		resp := &http.Response{StatusCode: 400 + int(status)%200, Header: h, ContentLength: -1,
			Body: io.NopCloser(bytes.NewReader(body))}
		for _, p := range Policies() {
			v := p.classify(resp, nil, testNow)
			if len(v.Message) > maxMessage {
				t.Fatalf("message of %d bytes", len(v.Message))
			}
			checkHint(t, "RetryAfter", v.RetryAfter, true)
			tr := &Transport{}
			c := call{route: route{pol: p, retries: 5, tries: 1}, ctx: context.Background(), body: replayBody{replayable: true}}
			a := AttemptInfo{Attempt: 1, Verdict: v}
			tr.decide(&c, resp, &a, testNow)
			d, wait := a.Decision, a.Wait
			if d == DecisionRetry && (wait < 0 || wait > max(p.maxWait(), defaultMaxDelay)) {
				t.Fatalf("%s: retry after %v, outside [0, MaxWait %v]", p.name(), wait, p.maxWait())
			}
		}
		got, _ := io.ReadAll(resp.Body)
		if !bytes.Equal(got, body) {
			t.Fatalf("body changed: got %d bytes, sent %d", len(got), len(body))
		}
	})
}

func FuzzEstimateTokens(f *testing.F) {
	for _, s := range []string{chatBody, `{"messages":[{"content":[{"type":"image_url"},{"type":"text","text":"hi"}]}],"max_completion_tokens":5}`,
		`{"prompt":["a","b"],"max_tokens":1e30}`, `{"max_tokens":-1}`, `not json`, `{"messages":[{"content":{"a":1}}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if n := EstimateTokens(b); n < 1 || n > 1<<30 {
			t.Fatalf("EstimateTokens = %d, outside [1, 2^30]", n)
		}
	})
}

// FuzzRateHeaders reads arbitrary rate-limit headers and learns from them:
// every count, reset and learned rate stays within bounds, and a learned
// pace never holds a request beyond MaxWait.
func FuzzRateHeaders(f *testing.F) {
	f.Add("X-Ratelimit-Limit-Requests: 10\nX-Ratelimit-Remaining-Requests: 9\nX-Ratelimit-Reset-Requests: 17ms")
	f.Add("X-Ratelimit-Limit: 2\nX-Ratelimit-Remaining: 1\nX-Ratelimit-Reset: 8000h")
	f.Add("Ratelimit: \"default\";r=50;t=30\nRatelimit-Policy: \"default\";q=100;w=60")
	f.Add("Anthropic-Ratelimit-Tokens-Limit: 1\nAnthropic-Ratelimit-Tokens-Remaining: 0\nAnthropic-Ratelimit-Tokens-Reset: 2026-11-22T12:00:05Z")
	f.Add("X-Ratelimit-Limit-Requests-Day: 1000\nX-Ratelimit-Remaining-Requests-Day: 999\nX-Ratelimit-Reset-Requests-Day: 72000")
	f.Fuzz(func(t *testing.T, headers string) {
		h := http.Header{}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		r := readRateHeaders(h, testNow)
		if r.n > maxDims {
			t.Fatalf("%d dimensions", r.n)
		}
		for _, d := range r.dims[:r.n] {
			if d.limit < 0 || d.limit > maxRateCount || d.remaining < 0 || d.remaining > maxRateCount {
				t.Fatalf("counts %d, %d out of bounds", d.limit, d.remaining)
			}
			checkHint(t, "reset", d.reset, true)
		}
		if d, ok := r.resetHint(); ok {
			checkHint(t, "resetHint", d, true)
		}
		p, ft := testPacer(genericPolicy())
		p.observe(bg(), &http.Response{StatusCode: 200, Header: h}, Verdict{Status: 200}, p.send(bg(), testNow, 1, false), testNow)
		lim, _ := p.limit(testNow)
		for _, x := range []rate.Limit{lim.RequestRate, lim.TokenRate} {
			if x < 0 || math.IsNaN(float64(x)) {
				t.Fatalf("learned rate %v", x)
			}
		}
		for i := 0; i < 3; i++ {
			if err := p.acquire(bg(), 1, ft.Now()); err != nil {
				t.Fatalf("acquire: %v: a learned pace never fails a request", err)
			}
		}
		var total time.Duration
		for _, w := range ft.Waits() {
			total += w
		}
		if total > 3*(defaultMaxWait+time.Second) {
			t.Fatalf("waited %v for 3 requests: a learned pace holds each for MaxWait at most", total)
		}
	})
}

// FuzzRawText checks rawText's fast paths against encoding/json's decoding of
// the same value.
func FuzzRawText(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b"`, `"\u00e9t\u00e9"`, "\"\xff\xfe\"", `"tab\there"`, `42`, `-1.5e3`, `"42"`, `null`, `{"a":1}`, `[1]`, `"`, `"unterminated`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return // rawText only ever sees values the decoder accepted
		}
		got := rawText(b)
		switch x := v.(type) {
		case string:
			if got != x {
				t.Fatalf("rawText(%q) = %q, want %q", b, got, x)
			}
		case float64:
			var n json.Number
			json.Unmarshal(b, &n)
			if got != n.String() {
				t.Fatalf("rawText(%q) = %q, want %q", b, got, n.String())
			}
		default:
			if got != "" {
				t.Fatalf("rawText(%q) = %q, want empty", b, got)
			}
		}
	})
}
