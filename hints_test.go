package llmretry

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"12", 12 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"Sun, 22 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 22-Nov-26 12:01:00 GMT", time.Minute, true},
		{"Sun, 22 Nov 2026 11:00:00 GMT", 0, true}, // past: now
		{"-5", 0, false},
		{"+5", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"inf", 0, false},
		{"0x10", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"99999999999999999999999", 0, false}, // absurd
		{"31708800", 0, false},                // 367 days: absurd
		{"Fri, 31 Dec 9999 23:59:59 GMT", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, testNow)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseReset(t *testing.T) {
	t.Parallel()
	epoch := testNow.Unix()
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{itoa(epoch + 20), 20 * time.Second, true},               // Unix seconds (Cencori)
		{itoa(epoch*1000 + 2500), 2500 * time.Millisecond, true}, // Unix milliseconds
		{itoa(epoch - 20), 0, true},                              // passed
		{"20", 20 * time.Second, true},                           // small: delta-seconds
		{"0.5", 500 * time.Millisecond, true},
		{"1s", time.Second, true}, // Go durations (OpenAI's x-ratelimit-reset-*)
		{"6m0s", 6 * time.Minute, true},
		{"2m59.56s", 2*time.Minute + 59560*time.Millisecond, true},
		{"17ms", 17 * time.Millisecond, true},
		{"2026-11-22T12:00:42Z", 42 * time.Second, true}, // RFC 3339
		{"2026-11-22T13:00:42.5+01:00", 42500 * time.Millisecond, true},
		{"-1s", 0, false},
		{"-20", 0, false},
		{"1y", 0, false},
		{"tomorrow", 0, false},
		{"", 0, false},
		{"9000h", 0, false}, // over a year: absurd
	}
	for _, tt := range tests {
		got, ok := parseReset(tt.in, testNow)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseReset(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestParseMessageHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg    string
		want   time.Duration
		wantOK bool
	}{
		{"Rate limit exceeded. Please retry after 60 seconds.", 60 * time.Second, true}, // SolidRusT
		{"too many requests, tall one. come back in 12s.", 12 * time.Second, true},      // GPT-Gob
		{"Rate limit reached for gpt-4 on tokens per min. Limit: 10000, Used: 9000, Requested: 2000. Please try again in 6m0s.", 6 * time.Minute, true},
		{"Please try again in 1.5s.", 1500 * time.Millisecond, true},
		{"Please try again in 250ms", 250 * time.Millisecond, true},
		{"Retry in 2 minutes", 2 * time.Minute, true},
		{"wait 500 milliseconds", 500 * time.Millisecond, true},
		{"Limit: 10000, Used: 9000", 0, false}, // numbers that are not waits
		{"model gpt-4 has 8192 tokens", 0, false},
		{"", 0, false},
		{"retry after -5 seconds", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseMessageHint(tt.msg)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseMessageHint(%q) = %v, %v; want %v, %v", tt.msg, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestResetHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      http.Header
		want   time.Duration
		wantOK bool
	}{
		{"exhausted tokens wins", http.Header{
			"X-Ratelimit-Remaining-Requests": {"10"}, "X-Ratelimit-Reset-Requests": {"1s"},
			"X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"6m0s"}}, 6 * time.Minute, true},
		{"none exhausted: earliest", http.Header{
			"X-Ratelimit-Reset-Requests": {"2s"}, "X-Ratelimit-Reset-Tokens": {"6m0s"}}, 2 * time.Second, true},
		{"Cencori epoch", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {itoa(testNow.Unix() + 30)}}, 30 * time.Second, true},
		{"IETF RateLimit-Reset", http.Header{"Ratelimit-Reset": {"7"}}, 7 * time.Second, true},
		{"Cerebras: a limit with some left does not explain the 429", http.Header{
			"X-Ratelimit-Remaining-Requests-Day": {"14000"}, "X-Ratelimit-Reset-Requests-Day": {"33011.5"},
			"X-Ratelimit-Remaining-Tokens-Minute": {"59000"}, "X-Ratelimit-Reset-Tokens-Minute": {"59.3"}}, 0, false},
		{"garbage", http.Header{"X-Ratelimit-Reset": {"later"}}, 0, false},
		{"none", http.Header{}, 0, false},
	}
	for _, tt := range tests {
		rh := readRateHeaders(tt.h, testNow)
		got, ok := rh.resetHint()
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: resetHint = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestHeaderConstantsAreCanonical(t *testing.T) {
	t.Parallel()
	for _, k := range []string{hdrRetryAfter, hdrRetryAfterMS, hdrShouldRetry, pfxXRateLimit, pfxAnthropicRateLimit, pfxIETFRateLimit} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical (%q): the direct map lookups in header() would miss it", k, c)
		}
	}
}
