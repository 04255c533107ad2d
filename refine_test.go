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
