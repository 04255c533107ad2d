package llmretryotel_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	llmretryotel "github.com/llmretry/llmretry/otel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The zero Config records into the global meter and tracer providers, which
// the program sets up once (otel.SetMeterProvider, otel.SetTracerProvider).
// Here the spans go to an in-memory recorder, to print them.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	client := &http.Client{Transport: &llmretry.Transport{
		Observer: llmretryotel.NewObserver(llmretryotel.Config{TracerProvider: tp}),
	}}

	// A fake provider that limits the rate once, asking to wait 10 ms.
	srv := llmretrytest.NewServer()
	defer srv.Close()
	limited := llmretrytest.Dialect("openai").RateLimit(0)
	limited.Header.Set("Retry-After-Ms", "10")
	srv.Enqueue(limited)

	ctx, span := tp.Tracer("example").Start(context.Background(), "summarize")
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`))
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close() // ends the last attempt's span
	span.End()

	for _, s := range spans.Ended() {
		a := map[attribute.Key]string{}
		for _, kv := range s.Attributes() {
			a[kv.Key] = kv.Value.Emit()
		}
		if s.Name() == "summarize" {
			continue
		}
		fmt.Printf("%s attempt %s: %s %s, %s; hint %s\n", s.Name(), a[llmretryotel.AttemptKey],
			a["http.response.status_code"], a[llmretryotel.ClassKey], a[llmretryotel.DecisionKey], a[llmretryotel.HintKey])
	}
	// Output:
	// POST attempt 1: 429 rate_limited, retry; hint retry-after-ms
	// POST attempt 2: 200 ok, success; hint
}

// Serve the metrics to Prometheus: an OpenTelemetry meter provider whose
// reader is the Prometheus exporter, registered on a registry that
// promhttp serves.
func ExampleNewObserver_prometheus() {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		log.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(context.Background())

	tr := &llmretry.Transport{Observer: llmretryotel.NewObserver(llmretryotel.Config{MeterProvider: mp})}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	// A real program serves them: http.ListenAndServe(":9464", metrics)

	// A fake provider that is overloaded once, then answers.
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.Enqueue(llmretrytest.Dialect("openai").Overloaded(0))
	resp, err := (&http.Client{Transport: tr}).Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	// What Prometheus scrapes.
	rec := httptest.NewRecorder()
	metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "llmretry_attempts_total") || strings.HasPrefix(line, "llmretry_retries_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// llmretry_attempts_total{llmretry_class="ok",llmretry_decision="success",llmretry_policy="generic",server_address="127.0.0.1"} 1
	// llmretry_attempts_total{llmretry_class="overloaded",llmretry_decision="retry",llmretry_policy="generic",server_address="127.0.0.1"} 1
	// llmretry_retries_total{llmretry_class="overloaded",llmretry_policy="generic",llmretry_wait_kind="backoff",server_address="127.0.0.1"} 1
}
