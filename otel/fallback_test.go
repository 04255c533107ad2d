package llmretryotel_test

import (
	"context"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	llmretryotel "github.com/llmretry/llmretry/otel"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestFallbackMetricsAndSpans checks a request that an overloaded model
// sends on to its fallback: one fallback counted, the request counted once,
// and each attempt's span naming its target.
func TestFallbackMetricsAndSpans(t *testing.T) {
	t.Parallel()
	r := newRig(t, &llmretry.Policy{Name: "test", Fallbacks: []llmretry.Target{{Model: "small-model"}}})
	srv := llmretrytest.Start(t)
	srv.EnqueueModel("fake-model", llmretrytest.Dialect("openai").Overloaded(0))
	if resp, err := r.post(t, context.Background(), srv.URL, "sk-fallback"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("request: %v, %v; want the fallback's 200", resp, err)
	}
	ms := r.collect(t)
	for _, c := range []struct {
		name string
		w    where
		want float64
	}{
		{llmretryotel.AttemptsName, where{}, 2},
		{llmretryotel.AttemptsName, where{"llmretry.policy": "test", "llmretry.class": "overloaded", "llmretry.decision": "fallback"}, 1},
		{llmretryotel.AttemptsName, where{"llmretry.class": "ok", "llmretry.decision": "success", "llmretry.target": "small-model"}, 1},
		{llmretryotel.FallbacksName, where{"llmretry.policy": "test", "llmretry.class": "overloaded"}, 1},
		{llmretryotel.RequestAttemptsName, where{}, 1},
	} {
		if got := total(t, ms, c.name, c.w); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.name, c.w, got, c.want)
		}
	}
	if _, ok := ms[llmretryotel.RetriesName]; ok {
		if got := total(t, ms, llmretryotel.RetriesName, where{}); got != 0 {
			t.Errorf("retries = %v, want 0: a fallback is not a retry", got)
		}
	}
	for _, p := range ms[llmretryotel.FallbacksName].Data.(metricdata.Sum[int64]).DataPoints {
		if _, ok := p.Attributes.Value(llmretryotel.TargetKey); ok {
			t.Errorf("fallback from the request's own target has llmretry.target: %v", p.Attributes)
		}
	}
	spans := r.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	if a := attrs(spans[0]); a["llmretry.decision"] != "fallback" || a["llmretry.target"] != "" {
		t.Errorf("first span %v, want decision fallback and no target", a)
	}
	if a := attrs(spans[1]); a["llmretry.target"] != "small-model" || a["llmretry.decision"] != "success" {
		t.Errorf("second span %v, want target small-model and success", a)
	}
}
