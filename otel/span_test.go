package llmretryotel_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmretry/llmretry"
	llmretryotel "github.com/llmretry/llmretry/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.Emit()
	}
	return out
}

// TestSpansOnePerAttempt checks that each attempt has a client span under
// the caller's, with the class, hint and decision, ended when its body is.
func TestSpansOnePerAttempt(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	srv := llmretrytest.Start(t)
	srv.Enqueue(llmretrytest.Dialect("openai").Overloaded(0), rateLimited())

	ctx, parent := r.tp.Tracer("caller").Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-span-secret")
	resp, err := r.tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v; want a 200", resp, err)
	}
	if n := len(r.spans.Ended()); n != 2 {
		t.Errorf("%d spans ended before the success's body was read, want the 2 retried attempts", n)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	parent.End()

	var attempts []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Name() != "caller" {
			attempts = append(attempts, s)
		}
	}
	if len(attempts) != 3 {
		t.Fatalf("%d attempt spans, want 3", len(attempts))
	}
	want := []map[string]string{
		{"llmretry.attempt": "1", "llmretry.class": "overloaded", "llmretry.decision": "retry", "llmretry.wait.kind": "backoff",
			"llmretry.wait": "0.001", "http.response.status_code": "503", "error.type": "503", "llmretry.error.code": "service_unavailable"},
		{"llmretry.attempt": "2", "http.request.resend_count": "1", "llmretry.class": "rate_limited", "llmretry.decision": "retry",
			"llmretry.hint": "retry-after-ms", "llmretry.retry_after": "0.005", "llmretry.wait.kind": "hint", "http.response.status_code": "429"},
		{"llmretry.attempt": "3", "http.request.resend_count": "2", "llmretry.class": "ok", "llmretry.decision": "success", "http.response.status_code": "200"},
	}
	for i, s := range attempts {
		got := attrs(s)
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("span %d: %s = %q, want %q (all: %v)", i+1, k, got[k], v, got)
			}
		}
		for k, v := range map[string]string{"http.request.method": "POST", "server.address": "127.0.0.1", "url.scheme": "http", "llmretry.policy": "test"} {
			if got[k] != v {
				t.Errorf("span %d: %s = %q, want %q", i+1, k, got[k], v)
			}
		}
		if s.Name() != "POST" || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d: %q kind %v, want a client span named POST", i+1, s.Name(), s.SpanKind())
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %d is not a child of the caller's span", i+1)
		}
		wantCode := codes.Error
		if i == 2 {
			wantCode = codes.Unset
		}
		if s.Status().Code != wantCode {
			t.Errorf("span %d: status %v, want %v", i+1, s.Status(), wantCode)
		}
		if _, ok := got["error.type"]; ok != (i < 2) {
			t.Errorf("span %d: error.type %q", i+1, got["error.type"])
		}
	}
}

// TestSpansPropagate checks that trace headers go to the server on a copy
// of the request, not the caller's, when a propagator is set.
func TestSpansPropagate(t *testing.T) {
	t.Parallel()
	srv := llmretrytest.Start(t)
	rec := newRig(t, nil)
	rec.tr.Observer = llmretryotel.NewObserver(llmretryotel.Config{
		MeterProvider:  sdkmetric.NewMeterProvider(),
		TracerProvider: rec.tp,
		Propagators:    propagation.TraceContext{},
	})
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	resp, err := rec.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("Traceparent") != "" {
		t.Error("the caller's request got a traceparent header")
	}
	got := srv.Requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	spans := rec.spans.Ended()
	for i, g := range got {
		tp := g.Header.Get("Traceparent")
		if want := spans[i].SpanContext().SpanID().String(); !strings.Contains(tp, want) {
			t.Errorf("attempt %d: traceparent %q, want attempt span %s", i+1, tp, want)
		}
	}
}

// TestSpansTransportError checks a span without a response: ended at once,
// with the class as error.type.
func TestSpansTransportError(t *testing.T) {
	t.Parallel()
	r := newRig(t, &llmretry.Policy{Name: "test", MaxRetries: -1})
	srv := llmretrytest.Start(t)
	srv.Enqueue(llmretrytest.Step{Reset: true})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	if _, err := r.tr.RoundTrip(req); err == nil {
		t.Fatal("want the reset's error")
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	got := attrs(spans[0])
	if got["error.type"] != "connection" || got["llmretry.class"] != "connection" || spans[0].Status().Code != codes.Error {
		t.Errorf("span %v, status %v; want error.type connection and an error status", got, spans[0].Status())
	}
	if _, ok := got["http.response.status_code"]; ok {
		t.Error("a span without a response has a status code")
	}
}

// rwBody is a response body that is also a Writer, as a 101's is.
type rwBody struct {
	io.Reader
	wrote []byte
}

func (b *rwBody) Write(p []byte) (int, error) { b.wrote = append(b.wrote, p...); return len(p), nil }
func (b *rwBody) Close() error                { return nil }

// TestSpansKeepWritableBody checks that the span's body wrapper keeps a
// writable body writable (protocol switches), and ends the span on Close.
func TestSpansKeepWritableBody(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	body := &rwBody{Reader: strings.NewReader("")}
	r.tr.Base = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: http.Header{}, Body: body, Request: req}, nil
	})
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/v1/realtime", nil)
	resp, err := r.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := resp.Body.(io.Writer)
	if !ok {
		t.Fatalf("body %T is not writable", resp.Body)
	}
	w.Write([]byte("hi"))
	if string(body.wrote) != "hi" {
		t.Errorf("wrote %q through the wrapper, want hi", body.wrote)
	}
	if n := len(r.spans.Ended()); n != 0 {
		t.Errorf("%d spans ended before Close", n)
	}
	resp.Body.Close()
	if n := len(r.spans.Ended()); n != 1 {
		t.Errorf("%d spans ended after Close, want 1", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
