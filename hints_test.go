package llmretry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

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

// A zero wait is not a hint (issue 21, item 15): Retry-After: 0 was reported
// as Hint=retry-after, RetryAfter=0 while the Transport waited its backoff.
// What the Verdict, AttemptInfo, the log and APIError say is what was done.
func TestZeroHintIsNoHint(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		header   http.Header
		body     string
		wantHint string
		wantWait time.Duration // 0: the backoff's
	}{
		{"Retry-After: 0", http.Header{"Retry-After": {"0"}}, "", noHint, 0},
		{"Retry-After: 0.0", http.Header{"Retry-After": {"0.0"}}, "", noHint, 0},
		{"a date already past", http.Header{"Retry-After": {past}}, "", noHint, 0},
		{"retry-after-ms: 0", http.Header{"Retry-After-Ms": {"0"}}, "", noHint, 0},
		{"retry-after-ms: 0 gives way to Retry-After", http.Header{"Retry-After-Ms": {"0"}, "Retry-After": {"3"}}, "", hintRetryAfter, 3 * time.Second},
		{"Retry-After: 0 gives way to the body", http.Header{"Retry-After": {"0"}},
			`{"error":{"message":"slow down","type":"rate_limit_error","retry_after":2}}`, hintBody, 2 * time.Second},
		{"a zero retry_after in the body", nil, `{"error":{"message":"slow down","retry_after":0}}`, noHint, 0},
		{"try again in 0s", nil, `{"error":{"message":"Rate limited. Please try again in 0s."}}`, noHint, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, &Policy{MaxRetries: 1})
			var logs strings.Builder
			tr.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			var at attempts
			tr.Observer = onAttempt(at.hook)
			body := tt.body
			if body == "" {
				body = `{"error":{"message":"slow down","type":"rate_limit_error"}}`
			}
			h := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tt.header {
				h[k] = v
			}
			step := llmretrytest.Step{Status: 429, Header: h, Body: []byte(body)}
			srv.Enqueue(step, step)
			tr.ReturnErrors = true
			_, _, err := post(t, tr, srv.URL)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || len(at.all) != 2 {
				t.Fatalf("err %v after %d attempts: want an APIError after 2", err, len(at.all))
			}
			a := at.all[0]
			want := tt.wantWait
			if want == 0 {
				want = (&Policy{}).backoff(1, 0.5) // what the backoff waits at r = 0.5
			}
			if a.Decision != DecisionRetry || a.Wait != want || a.Verdict.Hint != tt.wantHint || (tt.wantHint == noHint) != (a.Verdict.RetryAfter == 0) {
				t.Errorf("attempt 1: %s wait %v, hint %s %v; want retry after %v, hint %s", a.Decision, a.Wait, a.Verdict.Hint, a.Verdict.RetryAfter, want, tt.wantHint)
			}
			if w := ft.Waits(); len(w) != 1 || w[0] != want {
				t.Errorf("waited %v, want [%v]", w, want)
			}
			if apiErr.RetryAfter != at.all[1].Verdict.RetryAfter || (tt.wantHint == noHint && apiErr.RetryAfter != 0) {
				t.Errorf("APIError.RetryAfter %v, the last verdict's %v", apiErr.RetryAfter, at.all[1].Verdict.RetryAfter)
			}
			if got := strings.Contains(logs.String(), "hint="); got != (tt.wantHint != noHint) {
				t.Errorf("the log says a hint: %v, want %v:\n%s", got, tt.wantHint != noHint, logs.String())
			}
		})
	}
}

// TestHinted: the one test of a usable hint, which decide, the budget, the
// key's pause and RetryablehttpBackoff share: a source and a wait above 0.
func TestHinted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    Verdict
		want bool
	}{
		{Verdict{}, false},
		{Verdict{Hint: hintRetryAfter, RetryAfter: time.Second}, true},
		{Verdict{Hint: hintMessage, RetryAfter: time.Millisecond}, true},
		{Verdict{Hint: hintBody}, false},                            // a zero wait is the backoff's
		{Verdict{Hint: hintReset, RetryAfter: -time.Second}, false}, // a reset already past
		{Verdict{RetryAfter: time.Second}, false},                   // a wait with no source is no hint
	}
	for _, tt := range tests {
		if got := tt.v.hinted(); got != tt.want {
			t.Errorf("%+v.hinted() = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestFarResetRetriesOnBackoff: a 429 whose only hint is the rate-limit
// headers' reset is retried on the backoff when the reset is longer than
// MaxWait or ends past the deadline (issue 20, the attack's finding 4):
// openai-go ignores resets and retries; a reset is a claim about a counter
// (OpenAI's reset-requests is the time until the bucket is full again),
// not the server asking to wait. The server's explicit requests
// (Retry-After, retry-after-ms, the body's retry_after) still end the call,
// and a reset within reach is still waited out.
func TestFarResetRetriesOnBackoff(t *testing.T) {
	hourly := http.Header{"X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Reset": {"3600"}}
	openaiDay := http.Header{"X-Ratelimit-Limit-Requests": {"10000"}, "X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"6m0s"}}
	near := http.Header{"X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Reset": {"30"}}
	noHintAllowed := func() *Policy { p := genericPolicy(); p.MaxWait = -1; return p }
	const rl = `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`
	tests := []struct {
		name     string
		pol      func() *Policy
		h        http.Header
		body     string
		timeout  time.Duration // the context's deadline, if > 0
		want     Decision      // the first attempt's decision
		wait     time.Duration // its Wait, if > 0; else a backoff (under a second)
		attempts int
	}{
		{name: "hourly reset, generic", pol: genericPolicy, h: hourly, want: DecisionRetry, attempts: 2},
		{name: "hourly reset, openai", pol: openAIPolicy, h: hourly, body: rl, want: DecisionRetry, attempts: 2},
		{name: "reset-requests 6m0s, generic", pol: genericPolicy, h: openaiDay, want: DecisionRetry, attempts: 2},
		{name: "reset-requests 6m0s, openai", pol: openAIPolicy, h: openaiDay, body: rl, want: DecisionRetry, attempts: 2},
		{name: "reset past the deadline", pol: genericPolicy, h: near, timeout: 10 * time.Second, want: DecisionRetry, attempts: 2},
		{name: "reset within reach is waited", pol: genericPolicy, h: near, want: DecisionRetry, wait: 30 * time.Second, attempts: 2},
		{name: "MaxWait negative: returned", pol: noHintAllowed, h: hourly, want: DecisionHintTooLong, attempts: 1},
		{name: "Retry-After over MaxWait: returned", pol: genericPolicy, h: http.Header{"Retry-After": {"3600"}}, want: DecisionHintTooLong, attempts: 1},
		{name: "retry-after-ms past the deadline: returned", pol: genericPolicy, h: http.Header{"Retry-After-Ms": {"30000"}}, timeout: 10 * time.Second, want: DecisionPastDeadline, attempts: 1},
		{name: "body retry_after over MaxWait: returned", pol: genericPolicy, body: `{"error":{"message":"slow down","retry_after":3600}}`, want: DecisionHintTooLong, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if n.Add(1) == 1 {
					body := tt.body
					if body == "" {
						body = `{"error":{"message":"too many requests"}}`
					}
					return response(429, tt.h.Clone(), body), nil
				}
				return response(200, nil, `{}`), nil
			})
			ft := &fakeTime{now: time.Now()}
			var first AttemptInfo
			tr := &Transport{Base: base, Policy: tt.pol(), Observer: onAttempt(func(a AttemptInfo) {
				if a.Attempt == 1 {
					first = a
				}
			}), seams: seams{now: ft.Now, sleep: ft.Sleep, rand: func() float64 { return 0.5 }}}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1:1/v1/chat/completions", strings.NewReader(chatBody))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if first.Decision != tt.want {
				t.Errorf("first attempt: decision %v (hint %q %v, wait %v), want %v", first.Decision, first.Verdict.Hint, first.Verdict.RetryAfter, first.Wait, tt.want)
			}
			if got := int(n.Load()); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			if tt.want != DecisionRetry {
				return
			}
			if tt.wait > 0 && first.Wait != tt.wait {
				t.Errorf("waited %v, want the reset, %v", first.Wait, tt.wait)
			}
			if tt.wait == 0 && (first.Wait <= 0 || first.Wait >= time.Second) {
				t.Errorf("waited %v, want the first backoff (under 1 s)", first.Wait)
			}
		})
	}
}
