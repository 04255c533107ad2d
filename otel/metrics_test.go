package llmretryotel_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	llmretryotel "github.com/llmretry/llmretry/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// where matches the points whose attributes have every given value
// (written as with fmt's %v).
type where map[string]string

func (w where) match(set attribute.Set) bool {
	for k, want := range w {
		v, ok := set.Value(attribute.Key(k))
		if !ok || fmt.Sprint(v.AsInterface()) != want {
			return false
		}
	}
	return true
}

// points returns, for each point of m matching w, its value: a counter's
// sum, a histogram's count, a gauge's value.
func points(t *testing.T, m metricdata.Metrics, w where) []float64 {
	t.Helper()
	var out []float64
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if w.match(p.Attributes) {
				out = append(out, float64(p.Value))
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if w.match(p.Attributes) {
				out = append(out, float64(p.Count))
			}
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			if w.match(p.Attributes) {
				out = append(out, float64(p.Count))
			}
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			if w.match(p.Attributes) {
				out = append(out, p.Value)
			}
		}
	default:
		t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
	}
	return out
}

func total(t *testing.T, ms map[string]metricdata.Metrics, name string, w where) float64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("no metric %s; have %v", name, keys(ms))
	}
	var sum float64
	for _, v := range points(t, m, w) {
		sum += v
	}
	return sum
}

func keys(ms map[string]metricdata.Metrics) []string {
	var out []string
	for k := range ms {
		out = append(out, k)
	}
	return out
}

// rateLimited is a 429 with a 5 ms wait hint in Retry-After-Ms.
func rateLimited() llmretrytest.Step {
	s := llmretrytest.Dialect("openai").RateLimit(0)
	s.Header.Set("Retry-After-Ms", "5")
	return s
}

// withLimits is a success that carries OpenAI's rate-limit headers.
func withLimits() llmretrytest.Step {
	h := http.Header{"Content-Type": {"application/json"}}
	h.Set("X-Ratelimit-Limit-Requests", "600")
	h.Set("X-Ratelimit-Remaining-Requests", "599")
	h.Set("X-Ratelimit-Reset-Requests", "100ms")
	return llmretrytest.Step{Status: 200, Header: h, Body: []byte(llmretrytest.Completion)}
}

// TestMetricsScriptedRun runs a script against the fake provider and reads
// every instrument back from the in-memory reader.
func TestMetricsScriptedRun(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	srv := llmretrytest.Start(t)
	const key = "sk-metrics-secret-0123456789"
	// Request 1: 503 (backoff), 429 with a hint, then a success with
	// rate-limit headers. Request 2: quota exhausted, not retried.
	srv.Enqueue(llmretrytest.Dialect("openai").Overloaded(0), rateLimited(), withLimits(), llmretrytest.Dialect("openai").QuotaExhausted())
	ctx := context.Background()
	if resp, err := r.post(t, ctx, srv.URL, key); err != nil || resp.StatusCode != 200 {
		t.Fatalf("request 1: %v, %v; want a 200", resp, err)
	}
	if resp, err := r.post(t, ctx, srv.URL, key); err != nil || resp.StatusCode != 429 {
		t.Fatalf("request 2: %v, %v; want the quota's 429", resp, err)
	}
	ms := r.collect(t)

	for _, c := range []struct {
		name string
		w    where
		want float64
	}{
		{llmretryotel.AttemptsName, where{}, 4},
		{llmretryotel.AttemptsName, where{"llmretry.policy": "test", "llmretry.class": "overloaded", "llmretry.decision": "retry", "server.address": "127.0.0.1"}, 1},
		{llmretryotel.AttemptsName, where{"llmretry.class": "rate_limited", "llmretry.decision": "retry"}, 1},
		{llmretryotel.AttemptsName, where{"llmretry.class": "ok", "llmretry.decision": "success"}, 1},
		{llmretryotel.AttemptsName, where{"llmretry.class": "quota_exhausted", "llmretry.decision": "not_retryable"}, 1},
		{llmretryotel.RetriesName, where{}, 2},
		{llmretryotel.RetriesName, where{"llmretry.class": "overloaded", "llmretry.wait.kind": "backoff"}, 1},
		{llmretryotel.RetriesName, where{"llmretry.class": "rate_limited", "llmretry.wait.kind": "hint"}, 1},
		{llmretryotel.RequestAttemptsName, where{}, 2}, // one point per request
		{llmretryotel.RequestAttemptsName, where{"llmretry.decision": "success"}, 1},
		{llmretryotel.RequestAttemptsName, where{"llmretry.decision": "not_retryable"}, 1},
		{llmretryotel.RequestDurationName, where{}, 4},
		{llmretryotel.RequestDurationName, where{"http.request.method": "POST", "server.address": "127.0.0.1", "url.scheme": "http", "http.response.status_code": "503", "error.type": "503"}, 1},
		{llmretryotel.RequestDurationName, where{"http.response.status_code": "429", "error.type": "429"}, 2},
		{llmretryotel.RequestDurationName, where{"http.response.status_code": "200"}, 1},
		{llmretryotel.WaitDurationName, where{"llmretry.wait.kind": "pacing"}, 4}, // the generic policy learns limits: every attempt is paced
		{llmretryotel.WaitDurationName, where{"llmretry.wait.kind": "hint"}, 1},
		{llmretryotel.WaitDurationName, where{"llmretry.wait.kind": "backoff"}, 1},
	} {
		if got := total(t, ms, c.name, c.w); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.name, c.w, got, c.want)
		}
	}
	if got := total(t, ms, llmretryotel.RequestDurationName, where{}); got != 4 {
		t.Errorf("duration points: %v", got)
	}
	// The 200 and the 503 have no error.type, but the 200 has none at all.
	if got := total(t, ms, llmretryotel.RequestDurationName, where{"http.response.status_code": "200", "error.type": "200"}); got != 0 {
		t.Error("a success has an error.type")
	}

	// Attempts per request: 3 and 1.
	h := ms[llmretryotel.RequestAttemptsName].Data.(metricdata.Histogram[int64])
	var sum int64
	for _, p := range h.DataPoints {
		sum += p.Sum
	}
	if sum != 4 {
		t.Errorf("attempts per request sum to %d, want 3 + 1", sum)
	}
	// The hint's wait is 5 ms, the backoff's 1 ms, as planned.
	wh := ms[llmretryotel.WaitDurationName].Data.(metricdata.Histogram[float64])
	for _, p := range wh.DataPoints {
		kind, _ := p.Attributes.Value("llmretry.wait.kind")
		switch kind.AsString() {
		case "hint":
			if p.Sum != 0.005 {
				t.Errorf("hint wait = %v s, want 0.005", p.Sum)
			}
		case "backoff":
			if p.Sum != 0.001 {
				t.Errorf("backoff wait = %v s, want 0.001", p.Sum)
			}
		}
	}

	// The request rate learned from the headers, per hashed key; the quota
	// answer carries none, so the learned rate stays.
	rates := points(t, ms[llmretryotel.RequestRateName], where{"llmretry.policy": "test"})
	if len(rates) != 1 || rates[0] <= 0 {
		t.Fatalf("request rate points %v, want one positive rate for the one key", rates)
	}
	for _, p := range ms[llmretryotel.RequestRateName].Data.(metricdata.Gauge[float64]).DataPoints {
		k, _ := p.Attributes.Value(llmretryotel.PacingKeyKey)
		if !strings.HasPrefix(k.AsString(), "test:") || strings.Contains(k.AsString(), "secret") {
			t.Errorf("pacing key %q, want the policy and a hash", k.AsString())
		}
	}
	// The budget: the 503's retry was paid for, so fewer are left than the
	// full budget's, but some.
	if b := points(t, ms[llmretryotel.BudgetName], where{"llmretry.policy": "test"}); len(b) != 1 || b[0] <= 0 || b[0] >= full(t) {
		t.Errorf("budget %v, want one value in (0, %v)", b, full(t))
	}
}

func TestMetricsPacingRefusal(t *testing.T) {
	t.Parallel()
	r := newRig(t, &llmretry.Policy{Name: "test", Limits: llmretry.Limits{RequestsPerMinute: 1, RequestBurst: 1}})
	srv := llmretrytest.Start(t)
	if _, err := r.post(t, context.Background(), srv.URL, "sk-a"); err != nil { // takes the only token
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	if _, err := r.post(t, ctx, srv.URL, "sk-a"); err == nil {
		t.Fatal("the second request went; want ErrDeadline: the next slot is a minute away")
	}
	ms := r.collect(t)
	if got := total(t, ms, llmretryotel.WaitDurationName, where{"llmretry.wait.kind": "pacing", "error.type": "pacing_deadline"}); got != 1 {
		t.Errorf("refused pacing waits = %v, want 1", got)
	}
	if got := total(t, ms, llmretryotel.AttemptsName, where{}); got != 1 {
		t.Errorf("attempts = %v, want 1: the refused request sent nothing", got)
	}
	if got := points(t, ms[llmretryotel.RequestRateName], where{}); len(got) != 1 || got[0] <= 0 || got[0] > 1.0/60 {
		t.Errorf("request rate %v, want the configured one per minute (with its headroom)", got)
	}
}

// full is what a fresh budget has left: the AttemptInfo.Budget after one success.
func full(t *testing.T) float64 {
	t.Helper()
	var got float64
	tr := &llmretry.Transport{Observer: &llmretry.Observer{AttemptEnd: func(s llmretry.AttemptInfo, _ *http.Response) {
		got = s.Budget
	}}}
	srv := llmretrytest.Start(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr.CloseIdleConnections()
	return got
}

// Pacing waits carry their priority, unless 0: the queue wait per priority.
func TestMetricsPacingPriority(t *testing.T) {
	t.Parallel()
	r := newRig(t, &llmretry.Policy{Name: "test", Limits: llmretry.Limits{RequestsPerMinute: 6000}})
	srv := llmretrytest.Start(t)
	for _, ctx := range []context.Context{context.Background(), llmretry.WithPriority(context.Background(), 7), llmretry.WithPriority(context.Background(), 7)} {
		if _, err := r.post(t, ctx, srv.URL, "sk-a"); err != nil {
			t.Fatal(err)
		}
	}
	ms := r.collect(t)
	if got := total(t, ms, llmretryotel.WaitDurationName, where{"llmretry.wait.kind": "pacing", "llmretry.priority": "7"}); got != 2 {
		t.Errorf("pacing waits at priority 7 = %v, want 2", got)
	}
	if got := total(t, ms, llmretryotel.WaitDurationName, where{"llmretry.wait.kind": "pacing"}); got != 3 {
		t.Errorf("pacing waits = %v, want 3 (priority 0 without the attribute)", got)
	}
}
