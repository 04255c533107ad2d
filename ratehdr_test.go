package llmretry

import (
	"net/http"
	"testing"
	"time"
)

func TestReadRateHeaders(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) string { return testNow.Add(d).UTC().Format(time.RFC3339) }
	type dim struct {
		unit      rateUnit
		limit     int64
		remaining int64
		reset     time.Duration
		period    time.Duration
		bucket    bool
	}
	tests := []struct {
		name string
		h    http.Header
		want []dim
	}{
		{"OpenAI requests and tokens", http.Header{
			"X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Remaining-Requests": {"9"}, "X-Ratelimit-Reset-Requests": {"100ms"},
			"X-Ratelimit-Limit-Tokens": {"10000"}, "X-Ratelimit-Remaining-Tokens": {"9000"}, "X-Ratelimit-Reset-Tokens": {"6m0s"}},
			[]dim{{unitRequests, 10, 9, 100 * time.Millisecond, 0, true}, {unitTokens, 10000, 9000, 6 * time.Minute, 0, true}}},
		{"Cencori window, Unix seconds", http.Header{
			"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"30"}, "X-Ratelimit-Reset": {itoa(testNow.Unix() + 15)}},
			[]dim{{unitRequests, 60, 30, 15 * time.Second, 0, false}}},
		{"Cerebras day and minute", http.Header{
			"X-Ratelimit-Limit-Requests-Day": {"14400"}, "X-Ratelimit-Remaining-Requests-Day": {"14399"}, "X-Ratelimit-Reset-Requests-Day": {"33011.5"},
			"X-Ratelimit-Limit-Tokens-Minute": {"60000"}, "X-Ratelimit-Remaining-Tokens-Minute": {"59000"}, "X-Ratelimit-Reset-Tokens-Minute": {"11.25"}},
			[]dim{{unitRequests, 14400, 14399, 33011500 * time.Millisecond, 24 * time.Hour, false}, {unitTokens, 60000, 59000, 11250 * time.Millisecond, time.Minute, false}}},
		{"Anthropic, RFC 3339", http.Header{
			"Anthropic-Ratelimit-Requests-Limit": {"50"}, "Anthropic-Ratelimit-Requests-Remaining": {"49"}, "Anthropic-Ratelimit-Requests-Reset": {at(2 * time.Second)},
			"Anthropic-Ratelimit-Input-Tokens-Limit": {"40000"}, "Anthropic-Ratelimit-Input-Tokens-Remaining": {"0"}, "Anthropic-Ratelimit-Input-Tokens-Reset": {at(30 * time.Second)}},
			[]dim{{unitRequests, 50, 49, 2 * time.Second, 0, true}, {unitInputTokens, 40000, 0, 30 * time.Second, 0, true}}},
		{"IETF draft 06", http.Header{"Ratelimit-Limit": {"100"}, "Ratelimit-Remaining": {"50"}, "Ratelimit-Reset": {"7"}},
			[]dim{{unitRequests, 100, 50, 7 * time.Second, 0, false}}},
		{"IETF structured", http.Header{"Ratelimit": {`"default";r=50;t=30, "daily";r=900;t=40000`}, "Ratelimit-Policy": {`"default";q=100;w=60`}},
			[]dim{{unitRequests, 100, 50, 30 * time.Second, time.Minute, false}}},
		{"Azure: remaining only", http.Header{"X-Ratelimit-Remaining-Requests": {"99"}, "X-Ratelimit-Remaining-Tokens": {"9000"}},
			[]dim{{unitRequests, 0, 99, 0, 0, true}, {unitTokens, 0, 9000, 0, 0, true}}},
		{"set by hand in lower case", http.Header{"x-ratelimit-remaining": {"3"}, "x-ratelimit-reset": {"5"}},
			[]dim{{unitRequests, 0, 3, 5 * time.Second, 0, false}}},
		{"hostile values are dropped", http.Header{"X-Ratelimit-Limit": {"-5"}, "X-Ratelimit-Remaining": {"1e9"}, "X-Ratelimit-Reset": {"soon"},
			"X-Ratelimit-Limit-Bananas": {"7"}, "Ratelimit": {"r=;t=nan"}},
			[]dim{{unitRequests, 0, 0, 0, 0, false}, {unitRequests, 0, 0, 0, 0, false}}},
		{"no rate headers", http.Header{"Content-Type": {"application/json"}, "Retry-After": {"3"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readRateHeaders(tt.h, testNow)
			if r.n != len(tt.want) {
				t.Fatalf("read %d dimensions %+v, want %d", r.n, r.dims[:r.n], len(tt.want))
			}
			for _, w := range tt.want {
				found := false
				for _, d := range r.dims[:r.n] {
					if d.unit == w.unit && d.limit == w.limit && d.remaining == w.remaining && d.reset == w.reset && d.period == w.period && d.bucket == w.bucket {
						found = true
					}
				}
				if !found {
					t.Errorf("no dimension %+v in %+v", w, r.dims[:r.n])
				}
			}
		})
	}
}

func TestResetResolution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v        string
		absolute bool
		want     time.Duration
	}{
		{"17ms", false, time.Millisecond}, {"7.66s", false, 10 * time.Millisecond}, {"6m0s", false, time.Second},
		{"2m59.56s", false, 10 * time.Millisecond}, {"20", false, time.Second}, {"0.5", false, 100 * time.Millisecond},
		{"1767225600", true, time.Second}, {"1767225600123", true, time.Millisecond},
		{"2026-11-22T12:00:05Z", true, time.Second}, {"2026-11-22T12:00:05.25Z", true, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := resetResolution(tt.v, tt.absolute); got != tt.want {
			t.Errorf("resetResolution(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestReadRateHeadersBounded(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	for _, u := range []string{"Requests", "Tokens"} {
		for _, p := range []string{"", "-Second", "-Minute", "-Hour", "-Day"} {
			h.Set("X-Ratelimit-Remaining-"+u+p, "1")
		}
	}
	if r := readRateHeaders(h, testNow); r.n != maxDims {
		t.Errorf("read %d dimensions, want at most %d", r.n, maxDims)
	}
	h = http.Header{"X-Ratelimit-Limit": {"99999999999999999"}, "X-Ratelimit-Remaining": {"99999999999999999"}}
	if r := readRateHeaders(h, testNow); r.dims[0].limit != maxRateCount || r.dims[0].remaining != maxRateCount {
		t.Errorf("counts %d, %d: want them capped at %d", r.dims[0].limit, r.dims[0].remaining, maxRateCount)
	}
}

// TestReadRateHeadersAllocatesNothing: the 2xx path reads every response's
// headers, so the read must not allocate, with or without rate headers.
func TestReadRateHeadersAllocatesNothing(t *testing.T) {
	for _, h := range []http.Header{
		{"Content-Type": {"application/json"}, "Date": {"x"}, "X-Request-Id": {"r"}},
		{"X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Remaining-Requests": {"9"}, "X-Ratelimit-Reset-Requests": {"100ms"}},
	} {
		if n := testing.AllocsPerRun(100, func() { _ = readRateHeaders(h, testNow) }); n != 0 {
			t.Errorf("readRateHeaders(%v) allocates %v times, want 0", h, n)
		}
	}
}
