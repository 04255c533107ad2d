package llmretry

import "testing"

func TestRefineHelpers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{"quota exceeded for metric: x, limit: 0, model: gemini-2.5-pro", true},
		{"limit: 0", true},
		{"limit: 0.5 per second", false},
		{"limit: 05", false},
		{"limit: 10, model", false},
		{"limit: 250", false},
		{"", false},
	} {
		if got := zeroLimit([]byte(tt.msg)); got != tt.want {
			t.Errorf("zeroLimit(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{"request too large for gpt-4o", true},
		{"on tokens per min (tpm): limit 30000, used 29000, requested 1500. please try again in 1.2s.", false},
		{"on tokens per minute (tpm): limit 12000, requested 28563, please reduce", true},
		{"limit 1,000, requested 2,500", true},
		{"limit 1,000, requested 999", false},
		{"requested 5000 but no limit named", false},
		{"limit , requested", false},
		{"limit 99999999999999999999999, requested 1", false},
	} {
		if got := requestTooLarge([]byte(tt.msg)); got != tt.want {
			t.Errorf("requestTooLarge(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

func TestNumberAfter(t *testing.T) {
	t.Parallel()
	if n, ok := numberAfter([]byte("rate limit reached … limit 6000, used 0"), limitWord); !ok || n != 6000 {
		t.Errorf("numberAfter = %d, %v; want 6000", n, ok)
	}
	if _, ok := numberAfter([]byte("rate limit reached"), limitWord); ok {
		t.Error("numberAfter found a number where there is none")
	}
}

// TestLongWindow: a limit over a day or longer is recognised however the
// message writes its window, and shorter windows (or words that only contain
// a unit) are not.
func TestLongWindow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		// Days.
		{"Too many tokens per day, please wait before trying again.", true},
		{"Requests per day limit exceeded - too many requests sent.", true},
		{"on requests per day (RPD): Limit 14400, Used 14400, Requested 1.", true},
		{"on tokens per day (TPD): Limit 100000", true},
		{"per-day token quota reached", true},
		{"requests_per_day exceeded", true},
		{"You have used up your daily free allocation of 10,000 neurons.", true},
		{"limit of 500 requests/day reached", true},
		{"quota: 1000 calls a day", true},
		{"the limit resets every 24 hours", true},
		{"the limit resets every 24h", true},
		{"the 24-hour quota is exhausted", true},
		{"Quota exceeded for metric GenerateRequestsPerDayPerProjectPerModel-FreeTier", true},
		{"window: 30 days", true},
		// Weeks, months, years.
		{"You've reached your weekly usage limit.", true},
		{"limit of 50 requests per week", true},
		{"You are using a Trial key, which is limited to 1000 API calls / month.", true},
		{"limited to 1,000 API calls a month", true},
		{"1000 calls/month", true},
		{"per-month quota exceeded", true},
		{"per month quota exceeded", true},
		{"Monthly token limit reached", true},
		{"quota window: 1 month", true},
		{"monthly_limit_exceeded", true},
		{"API calls per 2 months", true},
		{"yearly allowance used", true},
		{"annual quota exhausted", true},
		// Not long.
		{"You are past the per minute request limit, please wait and try again later.", false},
		{"You are using a Trial key, which is limited to 40 API calls / minute.", false},
		{"trial token rate limit exceeded, limit is 100000 tokens per minute", false},
		{"Requests per hour limit exceeded", false},
		{"limit of 100 requests every 12 hours", false},
		{"try again today", false},
		{"maintenance on Monday", false},
		{"holidays", false},
		{"Rate limit reached for requests", false},
		{"", false},
	} {
		var buf [maxMessage]byte
		if got := longWindow(lowerInto(buf[:0], tt.msg)); got != tt.want {
			t.Errorf("longWindow(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// TestLongWindowNotRetried: a 429 that names a long window and gives no wait
// is an exhausted quota, under every policy, whatever the body's shape.
func TestLongWindowNotRetried(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"message":"You are using a Trial key, which is limited to 1000 API calls / month. You can continue to use the Trial key for free or upgrade to a Production key."}`,
		`{"error":"you have reached your weekly usage limit, upgrade for higher limits"}`,
		`{"error":{"message":"per-month quota exceeded","type":"requests","code":"rate_limit_exceeded"}}`,
		`{"success":false,"errors":[{"code":3036,"message":"You have used up your daily free allocation of 10,000 neurons."}],"messages":[],"result":null}`,
		`{"error":"Quota of 500 requests per 30 days reached"}`,
	}
	for _, p := range Policies() {
		for _, b := range bodies {
			v := p.Classify(response(429, nil, b), nil)
			if v.Class != ClassQuotaExhausted || v.Retryable {
				t.Errorf("%s: %s: %v retryable=%v, want QuotaExhausted, not retried", p.Name, b, v.Class, v.Retryable)
			}
		}
	}
}
