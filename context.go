package llmretry

import (
	"context"
	"time"
)

// ctxKey is the context key for per-request options.
type ctxKey struct{}

// requestOptions are the per-request overrides stored in a context.
type requestOptions struct {
	maxRetries     int
	hasMaxRetries  bool
	attemptTimeout time.Duration
	hasTimeout     bool
	policy         *Policy
	firstToken     time.Duration
	hasFirstToken  bool
	noFallback     bool
	priority       int
	hasPriority    bool
	tenant         string
}

func optionsFrom(ctx context.Context) requestOptions {
	o, _ := ctx.Value(ctxKey{}).(requestOptions)
	return o
}

func withOptions(ctx context.Context, f func(*requestOptions)) context.Context {
	o := optionsFrom(ctx)
	f(&o)
	return context.WithValue(ctx, ctxKey{}, o)
}

// WithMaxRetries returns a context that makes the [Transport] retry a request
// made with it at most n times on each of its targets, whatever its policies
// say. n ≤ 0 means no retry; fallbacks still apply (see [WithoutFallback]:
// WithoutFallback(WithMaxRetries(ctx, 0)) sends a request once).
func WithMaxRetries(ctx context.Context, n int) context.Context {
	if n < 0 {
		n = 0
	}
	return withOptions(ctx, func(o *requestOptions) { o.maxRetries, o.hasMaxRetries = n, true })
}

// WithoutFallback returns a context that makes the [Transport] send a request
// made with it only to its own target, ignoring its policy's Fallbacks.
// Retries still apply.
func WithoutFallback(ctx context.Context) context.Context {
	return withOptions(ctx, func(o *requestOptions) { o.noFallback = true })
}

// WithFirstTokenTimeout returns a context that bounds how long each streaming
// attempt of a request made with it may wait for its first event, as
// [Policy].FirstTokenTimeout does. d ≤ 0 removes the bound.
func WithFirstTokenTimeout(ctx context.Context, d time.Duration) context.Context {
	if d < 0 {
		d = 0
	}
	return withOptions(ctx, func(o *requestOptions) { o.firstToken, o.hasFirstToken = d, true })
}

// WithAttemptTimeout returns a context that bounds each attempt of a request
// made with it to d, as [Policy].AttemptTimeout does. d ≤ 0 removes the bound.
func WithAttemptTimeout(ctx context.Context, d time.Duration) context.Context {
	if d < 0 {
		d = 0
	}
	return withOptions(ctx, func(o *requestOptions) { o.attemptTimeout, o.hasTimeout = d, true })
}

// WithPolicy returns a context that makes the [Transport] use p for a request
// made with it, instead of the policy chosen by host. Pacing state and the
// retry budget belong to the *Policy value: pass the same p for requests that
// should share them, not a new Policy per request.
func WithPolicy(ctx context.Context, p *Policy) context.Context {
	return withOptions(ctx, func(o *requestOptions) { o.policy = p })
}
