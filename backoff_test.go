package llmretry

import (
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	t.Parallel()
	const base, max = 500 * time.Millisecond, 8 * time.Second
	tests := []struct {
		j     Jitter
		retry int
		r     float64
		want  time.Duration
	}{
		{NoJitter, 1, 0.9, 500 * time.Millisecond},
		{NoJitter, 2, 0.9, time.Second},
		{NoJitter, 5, 0, 8 * time.Second},
		{NoJitter, 6, 0, 8 * time.Second},   // capped
		{NoJitter, 500, 0, 8 * time.Second}, // no overflow
		{EqualJitter, 1, 0, 250 * time.Millisecond},
		{EqualJitter, 1, 0.5, 375 * time.Millisecond},
		{EqualJitter, 3, 0.999, 1999 * time.Millisecond},
		{FullJitter, 2, 0, 0},
		{FullJitter, 2, 0.5, 500 * time.Millisecond},
		{FullJitter, 2, 1.5, 0}, // r out of range: treated as 0
	}
	for _, tt := range tests {
		if got := Exponential(base, max, tt.j, tt.retry, tt.r); got != tt.want {
			t.Errorf("Exponential(jitter %d, retry %d, r %v) = %v, want %v", tt.j, tt.retry, tt.r, got, tt.want)
		}
	}
	if got := Exponential(time.Hour*1e5, time.Duration(1<<62), NoJitter, 80, 0); got <= 0 {
		t.Errorf("huge base and cap: got %v, want a positive wait", got)
	}
}

func TestExponentialBackoffStaysInBounds(t *testing.T) {
	t.Parallel()
	b := ExponentialBackoff(100*time.Millisecond, time.Second, EqualJitter)
	for retry := 1; retry < 10; retry++ {
		step := min(100*time.Millisecond<<(retry-1), time.Second)
		for i := 0; i < 100; i++ {
			if d := b(retry); d < step/2 || d > step {
				t.Fatalf("retry %d: %v outside [%v, %v]", retry, d, step/2, step)
			}
		}
	}
}
