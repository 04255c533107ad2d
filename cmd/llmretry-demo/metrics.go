package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/llmretry/llmretry"
	llmretryotel "github.com/llmretry/llmretry/otel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// metrics records the llmretry run's OpenTelemetry metrics into a
// Prometheus registry, as a program would to graph them (see the otel
// module), and serves them or prints them.
type metrics struct {
	observer *llmretry.Observer
	handler  http.Handler
	provider *sdkmetric.MeterProvider
	srv      *http.Server
	addr     string // where they are served, once serving
}

func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	return &metrics{
		observer: llmretryotel.NewObserver(llmretryotel.Config{MeterProvider: mp, DisableTraces: true}),
		handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		provider: mp,
	}, nil
}

// serve serves the metrics at http://addr/metrics until close.
func (m *metrics) serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.handler)
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.addr = ln.Addr().String()
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("llmretry-demo: metrics server:", err)
		}
	}()
	return nil
}

// print writes what Prometheus would scrape, without histogram buckets.
func (m *metrics) print(w io.Writer) {
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# TYPE") || strings.Contains(line, "_bucket{") {
			continue
		}
		fmt.Fprintln(w, line)
	}
}

func (m *metrics) close() {
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m.srv.Shutdown(ctx)
	}
	m.provider.Shutdown(context.Background())
}
