package llmretryotel

import (
	"context"
	"net/http"

	"github.com/llmretry/llmretry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/llmretry/llmretry/otel"

// Config says where the metrics and spans go. The zero Config uses the
// global providers, as OpenTelemetry instrumentation does.
type Config struct {
	// MeterProvider makes the meter. If nil, the global one
	// (otel.GetMeterProvider()), which forwards to the provider the program
	// sets with otel.SetMeterProvider, even after NewObserver.
	MeterProvider metric.MeterProvider

	// TracerProvider makes the tracer of the attempt spans. If nil, the
	// provider of the span in the request's context is used, or
	// otel.GetTracerProvider() when there is none (as otelhttp does).
	TracerProvider trace.TracerProvider

	// Propagators inject the attempt span's context into each attempt's
	// request headers (e.g. traceparent). If nil, otel.GetTextMapPropagator()
	// is used, which injects nothing until the program sets one.
	Propagators propagation.TextMapPropagator

	// DisableTraces turns the attempt spans off; metrics are still recorded.
	DisableTraces bool
}

// NewObserver returns an [llmretry.Observer] that records every attempt of
// the Transport it is set on as OpenTelemetry metrics and spans:
//
//	tr := &llmretry.Transport{Observer: llmretryotel.NewObserver(llmretryotel.Config{})}
//
// The instruments are made at once; an error making one (none is expected:
// their names are fixed) goes to otel.Handle and leaves that instrument a
// no-op. The Observer is safe for simultaneous use, and one may serve many
// Transports.
func NewObserver(c Config) *llmretry.Observer {
	mp := c.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	o := &observer{m: newInstruments(mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version), metric.WithSchemaURL(semconv.SchemaURL))),
		prop: c.Propagators, traces: !c.DisableTraces}
	if c.TracerProvider != nil {
		o.tracer = newTracer(c.TracerProvider)
	}
	if o.prop == nil {
		o.prop = otel.GetTextMapPropagator()
	}
	return &llmretry.Observer{AttemptStart: o.attemptStart, AttemptEnd: o.attemptEnd, Paced: o.paced}
}

// Version is this module's version, reported as the instrumentation scope's.
const Version = "0.1.0"

type observer struct {
	m      *instruments
	tracer trace.Tracer // nil: the request span's provider's, or the global one's
	prop   propagation.TextMapPropagator
	traces bool
}

// attemptCtxKey is the context key of an attempt's state.
type attemptCtxKey struct{}

// attempt is what the Observer keeps from an attempt's start to its end. It
// is the attempt's context too (one allocation, not two): the request's
// context, with the span if there is one, that also yields the attempt.
type attempt struct {
	context.Context
	req  *http.Request // the attempt's request, read only, for its attributes and credentials
	span trace.Span    // nil when traces are off or the span is not recording
}

// Value returns the attempt for attemptCtxKey, else the context's value.
func (a *attempt) Value(k any) any {
	if k == (attemptCtxKey{}) {
		return a
	}
	return a.Context.Value(k)
}

func (o *observer) attemptStart(r *http.Request, n int) *http.Request {
	a := &attempt{Context: r.Context(), req: r}
	inject := false
	if o.traces {
		var span trace.Span
		a.Context, span = o.startSpan(a.Context, r, n)
		if span.IsRecording() {
			a.span = span
		}
		inject = span.SpanContext().IsValid() && len(o.prop.Fields()) > 0
	}
	if !inject {
		return r.WithContext(a)
	}
	r2 := r.Clone(a) // the headers are the caller's: inject into a copy
	o.prop.Inject(a, propagation.HeaderCarrier(r2.Header))
	a.req = r2
	return r2
}

func (o *observer) attemptEnd(info llmretry.AttemptInfo, resp *http.Response) {
	if info.Context == nil {
		return
	}
	a, _ := info.Context.Value(attemptCtxKey{}).(*attempt)
	if a == nil { // not started by this Observer: nothing to measure against
		return
	}
	o.m.recordAttempt(info, a.req)
	if a.span != nil {
		o.endSpan(a, info, resp)
	}
}

func (o *observer) paced(ctx context.Context, w llmretry.PacingWait) {
	o.m.recordPacing(ctx, w)
}
