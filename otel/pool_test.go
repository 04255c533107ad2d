package llmretryotel_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	llmretryotel "github.com/llmretry/llmretry/otel"
)

// TestPoolMetricsAndSpans checks a request over a pool whose first target
// is overloaded: the retry on the other target is counted as a retry, and
// each attempt's metrics and span name its target.
func TestPoolMetricsAndSpans(t *testing.T) {
	t.Parallel()
	a, b := llmretrytest.Start(t), llmretrytest.Start(t)
	r := newRig(t, &llmretry.Policy{Name: "test", Pool: []llmretry.Target{
		{Name: "a", BaseURL: a.URL, Header: http.Header{"Authorization": {"Bearer sk-a"}}},
		{Name: "b", BaseURL: b.URL, Header: http.Header{"Authorization": {"Bearer sk-b"}}},
	}})
	a.Enqueue(llmretrytest.Dialect("openai").Overloaded(0))
	if resp, err := r.post(t, context.Background(), "http://pool.invalid", "sk-own"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("request: %v, %v; want b's 200", resp, err)
	}
	ms := r.collect(t)
	for _, c := range []struct {
		name string
		w    where
		want float64
	}{
		{llmretryotel.AttemptsName, where{"llmretry.class": "overloaded", "llmretry.decision": "retry", "llmretry.target": "a"}, 1},
		{llmretryotel.AttemptsName, where{"llmretry.class": "ok", "llmretry.decision": "success", "llmretry.target": "b"}, 1},
		{llmretryotel.RequestAttemptsName, where{}, 1},
	} {
		if got := total(t, ms, c.name, c.w); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.name, c.w, got, c.want)
		}
	}
	spans := r.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for i, want := range []string{"a", "b"} {
		if got := attrs(spans[i])["llmretry.target"]; got != want {
			t.Errorf("span %d: target %q, want %q", i, got, want)
		}
	}
}
