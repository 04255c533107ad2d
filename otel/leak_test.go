package llmretryotel_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
	llmretryotel "github.com/llmretry/llmretry/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace/noop"
)

// TestNoCredentialInTelemetry sends requests carrying an API key in a
// header and in the query through every kind of outcome, against a server
// that echoes the key in its error message, code, type and request id, and
// checks every exported attribute, span name and status.
func TestNoCredentialInTelemetry(t *testing.T) {
	t.Parallel()
	const secret = "sk-live-S3CR3T-telemetry-0123456789"
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // connection refused from now on

	r := newRig(t, &llmretry.Policy{Name: "test", AttemptTimeout: 50 * time.Millisecond, Budget: llmretry.RetryBudget{Disabled: true}})
	srv := llmretrytest.Start(t)
	echo := llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 401, Type: "bad_key_" + secret, Code: secret, Message: "Incorrect API key provided: " + secret})
	echo.Header.Set("X-Request-Id", "req-"+secret)
	limited := rateLimited()
	limited.Header.Set("X-Request-Id", secret)
	for _, header := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key"} {
		for _, script := range [][]llmretrytest.Step{
			{echo},
			{limited, llmretrytest.Dialect("openai").ServerError(), withLimits()},
			{{Reset: true}, {Reset: true}, {Reset: true}},
			{{Delay: time.Second}, {Delay: time.Second}, {Delay: time.Second}},
			{{Cut: true, CutAfter: 10}},
			nil, // connection refused
		} {
			srv.Enqueue(script...)
			url := srv.URL + "/v1/chat/completions?key=" + secret + "&alt=sse"
			if script == nil {
				url = deadURL + "/v1/chat/completions?key=" + secret
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(chatBody))
			value := secret
			if header == "Authorization" {
				value = "Bearer " + secret
			}
			req.Header.Set(header, value)
			if resp, err := r.tr.RoundTrip(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			cancel()
		}
	}

	check := func(what string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			if strings.Contains(kv.Value.Emit(), secret) || strings.Contains(kv.Value.Emit(), "S3CR3T") {
				t.Errorf("%s: %s = %q holds the key", what, kv.Key, kv.Value.Emit())
			}
			switch kv.Key {
			case "url.full", "url.path", "url.query", "url.original", "http.url", "http.target":
				t.Errorf("%s: %s = %q: no URL, path or query (cardinality, credentials)", what, kv.Key, kv.Value.Emit())
			}
		}
	}
	spans := r.spans.Ended()
	if len(spans) < 20 {
		t.Fatalf("only %d spans", len(spans))
	}
	for _, s := range spans {
		check("span "+s.Name(), s.Attributes())
		for _, e := range s.Events() {
			check("span event "+e.Name, e.Attributes)
		}
		if strings.Contains(s.Name(), secret) || strings.Contains(s.Status().Description, secret) {
			t.Errorf("span %q, status %q holds the key", s.Name(), s.Status().Description)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range pointSets(m) {
				n++
				check("metric "+m.Name, set.ToSlice())
				for _, kv := range set.ToSlice() {
					switch kv.Key {
					case "llmretry.error.code", "llmretry.error.type", "llmretry.request_id", "llmretry.attempt":
						t.Errorf("metric %s has per-request attribute %s", m.Name, kv.Key)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no metric points")
	}
}

func pointSets(m metricdata.Metrics) []attribute.Set {
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

// TestDefaultsAndNoops checks that the zero Config (global no-op
// providers), no-op providers and disabled traces neither panic nor change
// what the caller gets.
func TestDefaultsAndNoops(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]llmretryotel.Config{
		"zero":           {},
		"noop tracer":    {TracerProvider: noop.NewTracerProvider(), Propagators: propagation.TraceContext{}},
		"traces off":     {DisableTraces: true, Propagators: propagation.TraceContext{}},
		"propagator set": {Propagators: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})},
	} {
		t.Run(name, func(t *testing.T) {
			srv := llmretrytest.Start(t)
			srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
			tr := &llmretry.Transport{Base: &http.Transport{}, Observer: llmretryotel.NewObserver(c),
				Policy: &llmretry.Policy{Backoff: func(int) time.Duration { return time.Millisecond }}}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			resp, err := tr.RoundTrip(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("RoundTrip = %v, %v; want a 200 after a retry", resp, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != llmretrytest.Completion {
				t.Errorf("body = %q, want the completion byte for byte", b)
			}
		})
	}
	// An AttemptEnd the Observer did not start, even with no context.
	o := llmretryotel.NewObserver(llmretryotel.Config{})
	o.AttemptEnd(llmretry.AttemptInfo{}, nil)
	o.AttemptEnd(llmretry.AttemptInfo{Context: context.Background(), Key: "k"}, &http.Response{})
	o.Paced(context.Background(), llmretry.PacingWait{})
}
