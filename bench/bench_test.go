package main

import (
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// The fake provider must count a request's tokens as the client estimates
// them, or the tokens rows would measure the estimate, not the pacing.
func TestServerCostIsEstimateTokens(t *testing.T) {
	bodies := []string{``, `nope`, `{"messages":[{"content":"hi"}]}`,
		`{"system":"be brief","messages":[{"content":[{"type":"text","text":"abc"},{"type":"image_url","image_url":{}}]}],"max_completion_tokens":9}`,
		`{"prompt":"complete me","max_tokens":-5}`, `{"input":["a","b"],"max_tokens":3}`}
	for i := 0; i < 50; i++ {
		bodies = append(bodies, body(i))
	}
	for _, b := range bodies {
		if got, want := serverTokens([]byte(b)), llmretry.EstimateTokens([]byte(b)); got != want {
			t.Errorf("%s: server counts %d, client estimates %d", b, got, want)
		}
	}
}

func TestPeakAndHistogram(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	at := func(ms ...int) result {
		r := result{start: t0}
		for _, m := range ms {
			r.log = append(r.log, llmretrytest.Request{Time: t0.Add(time.Duration(m) * time.Millisecond), Status: 200})
		}
		return r
	}
	for _, tc := range []struct {
		r    result
		want int
	}{
		{at(), 0},
		{at(0, 1, 2, 3), 0},                 // all in the first 20 ms
		{at(0, 25, 30, 44, 45), 3},          // 25, 30, 44 (45 is 20 ms after 25)
		{at(0, 100, 100, 100, 119, 120), 4}, // a herd after a pause
	} {
		if got := tc.r.peak(20 * time.Millisecond); got != tc.want {
			t.Errorf("peak(%v) = %d, want %d", tc.r.log, got, tc.want)
		}
	}
	// In tokens: the same windows, each attempt costing its index+1 tokens.
	tok := at(0, 25, 30, 44, 45)
	for i := range tok.log {
		tok.log[i].Tokens = i + 1
	}
	if got := tok.peakTokens(20 * time.Millisecond); got != 3+4+5 {
		t.Errorf("peakTokens = %d, want 12 (the attempts at 30, 44 and 45 ms)", got)
	}
	r := at(0, 50, 150, 150)
	r.log[1].Status = 429
	h := r.histogram(100 * time.Millisecond)
	if len(h) != 2 || h[0] != (slot{ok: 1, limited: 1}) || h[1] != (slot{ok: 2}) {
		t.Errorf("histogram = %+v", h)
	}
	if p := percentile([]time.Duration{5, 1, 3, 2, 4}, 50); p != 3 {
		t.Errorf("median = %v, want 3", p)
	}
}

// TestShiftOptimum: the shift scenario's optimum follows its schedule: the
// burst, R until shiftDown, R×shiftFactor until shiftUp (with a fresh burst
// at each change), R after.
func TestShiftOptimum(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{100, 900 * time.Millisecond},                // (100−10)/100 s, before the change
		{310, 3*time.Second + 800*time.Millisecond},  // 10 + 200 + 10 by 2 s, 90 at 50/s
		{600, 4*time.Second + 2700*time.Millisecond}, // 200+10+10+100+10 by 4 s, 270 at 100/s
		{5, 0}, // the burst alone
	}
	for _, tt := range tests {
		cfg := config{n: tt.n, rate: 100, burst: 10}
		if got := shiftOptimum(cfg); (got - tt.want).Abs() > time.Millisecond {
			t.Errorf("n=%d: %v, want %v", tt.n, got, tt.want)
		}
	}
}
