package llmretryotel_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	llmretryotel "github.com/llmretry/llmretry/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const chatBody = `{"model":"fake-model","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}`

// rig is a Transport with an Observer that records into an in-memory
// metric reader and a span recorder.
type rig struct {
	tr     *llmretry.Transport
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

// newRig makes a rig whose policy pol (nil: one named "test") backs off 1 ms.
func newRig(t *testing.T, pol *llmretry.Policy) *rig {
	t.Helper()
	if pol == nil {
		pol = &llmretry.Policy{Name: "test"}
	}
	if pol.Backoff == nil {
		pol.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	r := &rig{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	r.tr = &llmretry.Transport{Base: base, Policy: pol, Observer: llmretryotel.NewObserver(llmretryotel.Config{
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader)),
		TracerProvider: r.tp,
	})}
	return r
}

// post sends a chat completion with key as a bearer token, reads the whole
// answer and closes it.
func (r *rig) post(t *testing.T, ctx context.Context, url, key string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := r.tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, nil
}

// collect reads the metrics recorded so far.
func (r *rig) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}
