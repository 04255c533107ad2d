package llmretryotel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	llmretryotel "github.com/llmretry/llmretry/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkRoundTrip measures what the Observer adds to a successful
// request: with no-op providers, and with the SDK's (metrics into a manual
// reader, every span sampled into a processor that drops it).
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, llmretrytest.Completion)
	}))
	defer srv.Close()
	url := srv.URL + "/v1/chat/completions"
	sdk := llmretryotel.Config{
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(dropSpans{})),
	}
	noop := llmretryotel.Config{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()}
	for _, tc := range []struct {
		name     string
		observer *llmretry.Observer
	}{
		{"obs=none", nil},
		{"obs=noop", llmretryotel.NewObserver(noop)},
		{"obs=sdk", llmretryotel.NewObserver(sdk)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			base := &http.Transport{MaxIdleConnsPerHost: 64}
			defer base.CloseIdleConnections()
			rt := &llmretry.Transport{Base: base, Observer: tc.observer}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(chatBody))
				req.Header.Set("Authorization", "Bearer sk-bench")
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// dropSpans is a span processor that keeps nothing.
type dropSpans struct{ sdktrace.SpanProcessor }

func (dropSpans) OnStart(_ context.Context, _ sdktrace.ReadWriteSpan) {}
func (dropSpans) OnEnd(sdktrace.ReadOnlySpan)                         {}
func (dropSpans) Shutdown(context.Context) error                      { return nil }
func (dropSpans) ForceFlush(context.Context) error                    { return nil }
