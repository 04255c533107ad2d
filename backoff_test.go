package llmretry

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	t.Parallel()
	const base, max = 500 * time.Millisecond, 8 * time.Second
	tests := []struct {
		retry int
		r     float64
		want  time.Duration
	}{
		{1, 0, 250 * time.Millisecond},
		{1, 0.5, 375 * time.Millisecond},
		{2, 0, 500 * time.Millisecond},
		{3, 0.999, 1999 * time.Millisecond},
		{5, 0, 4 * time.Second},
		{6, 0, 4 * time.Second},          // capped at 8 s, half of it
		{500, 0, 4 * time.Second},        // no overflow
		{2, 1.5, 500 * time.Millisecond}, // r out of range: treated as 0
	}
	for _, tt := range tests {
		if got := exponential(base, max, tt.retry, tt.r); got != tt.want {
			t.Errorf("exponential(retry %d, r %v) = %v, want %v", tt.retry, tt.r, got, tt.want)
		}
	}
	if got := exponential(time.Hour*1e5, time.Duration(1<<62), 80, 0); got <= 0 {
		t.Errorf("huge base and cap: got %v, want a positive wait", got)
	}
}

// TestPolicyBackoffStaysInBounds checks the default backoff of a Policy
// (nil Backoff): each wait in [step/2, step], the step doubling from
// BaseDelay up to MaxDelay.
func TestPolicyBackoffStaysInBounds(t *testing.T) {
	t.Parallel()
	p := &Policy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for retry := 1; retry < 10; retry++ {
		step := min(100*time.Millisecond<<(retry-1), time.Second)
		for i := 0; i < 100; i++ {
			if d := p.backoff(retry, rand.Float64()); d < step/2 || d > step {
				t.Fatalf("retry %d: %v outside [%v, %v]", retry, d, step/2, step)
			}
		}
	}
}
