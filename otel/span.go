package llmretryotel

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/llmretry/llmretry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// startSpan starts an attempt's client span, a child of the request's span.
// Its name is the method, as the HTTP client conventions ask when there is
// no URL template.
func (o *observer) startSpan(ctx context.Context, r *http.Request, n int) (context.Context, trace.Span) {
	tracer := o.tracer
	if tracer == nil {
		tp := otel.GetTracerProvider()
		if s := trace.SpanFromContext(ctx); s.SpanContext().IsValid() {
			tp = s.TracerProvider()
		}
		tracer = newTracer(tp)
	}
	m, _, _ := method(r.Method)
	name := m.Value.AsString() // http.request.method, normalized
	if name == "_OTHER" {
		name = "HTTP" // as the conventions ask for an unknown method
	}
	ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		kvs := append(requestAttrs(r, make([]attribute.KeyValue, 0, 8)), AttemptKey.Int(n))
		if n > 1 {
			kvs = append(kvs, semconv.HTTPRequestResendCount(n-1))
		}
		span.SetAttributes(kvs...)
	}
	return ctx, span
}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	return tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version), trace.WithSchemaURL(semconv.SchemaURL))
}

// endSpan records the attempt's outcome on its span, and ends it: now if
// there is no response, else when the response body is closed or read to
// its end (the caller's for the last attempt, the Transport's for a
// discarded one), as otelhttp does.
func (o *observer) endSpan(a *attempt, info llmretry.AttemptInfo, resp *http.Response) {
	span, v := a.span, info.Verdict
	kvs := []attribute.KeyValue{
		PolicyKey.String(info.Policy),
		ClassKey.String(v.Class.String()),
		DecisionKey.String(info.Decision.String()),
	}
	if info.Target != "" {
		kvs = append(kvs, TargetKey.String(info.Target))
	}
	if v.Status > 0 {
		kvs = append(kvs, semconv.HTTPResponseStatusCode(v.Status))
	}
	if et := errorType(v); et != "" {
		kvs = append(kvs, semconv.ErrorTypeKey.String(et))
	}
	if v.Hint != "" {
		kvs = append(kvs, HintKey.String(v.Hint), RetryAfterKey.Float64(v.RetryAfter.Seconds()))
	}
	if info.Decision == llmretry.DecisionRetry {
		kvs = append(kvs, WaitKey.Float64(info.Wait.Seconds()), WaitKindKey.String(waitKind(v)))
	}
	for _, f := range [...]struct {
		key attribute.Key
		val string
	}{{ErrorCodeKey, v.Code}, {ErrorTypeKey, v.Type}, {RequestIDKey, v.RequestID}} {
		if f.val != "" {
			kvs = append(kvs, f.key.String(scrub(f.val, a.req, maxAttr)))
		}
	}
	span.SetAttributes(kvs...)
	switch {
	case v.Err != nil:
		span.SetStatus(codes.Error, scrub(v.Err.Error(), a.req, maxStatus))
	case v.Status >= 400 || v.Status < 100:
		span.SetStatus(codes.Error, "")
	}
	if resp == nil || resp.Body == nil {
		span.End()
		return
	}
	sb := &spanBody{ReadCloser: resp.Body, span: span, req: a.req}
	if w, ok := resp.Body.(io.Writer); ok { // a 101 Switching Protocols body stays writable
		resp.Body = &writableSpanBody{spanBody: sb, w: w}
		return
	}
	resp.Body = sb
}

// writableSpanBody is a spanBody over a body that is also an io.Writer.
type writableSpanBody struct {
	*spanBody
	w io.Writer
}

func (b *writableSpanBody) Write(p []byte) (int, error) { return b.w.Write(p) }

// Bounds of the provider-given strings put on a span.
const (
	maxAttr   = 128
	maxStatus = 512
)

// scrub removes the request's credentials from s (the values of its
// credential headers and of its query, where some APIs take the key), then
// bounds it: redacting first, so that no cut leaves part of a secret.
func scrub(s string, r *http.Request, max int) string {
	for _, name := range credentialHeaders {
		for _, v := range r.Header.Values(name) {
			if i := strings.IndexByte(v, ' '); i >= 0 { // "Bearer sk-…"
				s = redact(s, strings.TrimSpace(v[i+1:]))
			}
			s = redact(s, v)
		}
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		for _, vs := range r.URL.Query() {
			for _, v := range vs {
				s = redact(s, v)
			}
		}
	}
	if len(s) > max {
		s = s[:max]
	}
	return strings.ToValidUTF8(s, "")
}

func redact(s, secret string) string {
	if len(secret) < 4 {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// credentialHeaders are the request headers whose values are secrets.
var credentialHeaders = [...]string{"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Anthropic-Api-Key"}

// spanBody ends an attempt's span when the body is closed or read to EOF,
// and marks it failed if reading fails.
type spanBody struct {
	io.ReadCloser
	span  trace.Span
	req   *http.Request
	ended atomic.Bool
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch err {
	case nil:
	case io.EOF:
		b.end()
	default:
		if !b.ended.Load() {
			b.span.SetAttributes(semconv.ErrorTypeKey.String("body"))
			b.span.SetStatus(codes.Error, scrub(err.Error(), b.req, maxStatus))
		}
	}
	return n, err
}

func (b *spanBody) Close() error {
	b.end()
	return b.ReadCloser.Close()
}

func (b *spanBody) end() {
	if b.ended.CompareAndSwap(false, true) {
		b.span.End()
	}
}
