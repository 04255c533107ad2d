package llmretry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// stopBase is an http.RoundTripper made of a function.
type stopBase func(*http.Request) (*http.Response, error)

func (f stopBase) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestStopReason runs every way a Transport stops retrying with an answer in
// hand, with ReturnErrors on (the *APIError returned) and off (the response
// returned, its APIError read back with ParseError, as under an SDK), and
// checks that APIError.Decision and Error() say why it stopped.
func TestStopReason(t *testing.T) {
	t.Parallel()
	oai := llmretrytest.Dialect("openai")
	// A retry the budget cannot pay for waits for a probe, unless none
	// is due before it would give up: here, no wait may pass MaxDelay.
	budget := func() *Policy {
		p := genericPolicy()
		p.Budget = RetryBudget{Reserve: 0.5}
		p.MaxDelay = 50 * time.Millisecond
		p.Backoff = func(int) time.Duration { return p.MaxDelay }
		return p
	}
	fallback := func() *Policy {
		p := genericPolicy()
		p.MaxRetries = 1
		p.Fallbacks = []Target{{Model: "other-model"}}
		return p
	}
	maxRetries := func() *Policy { p := genericPolicy(); p.MaxRetries = 2; return p }
	noRetries := func() *Policy { p := genericPolicy(); p.MaxRetries = -1; return p }
	tests := []struct {
		name     string
		pol      func() *Policy
		steps    []llmretrytest.Step
		timeout  time.Duration // the context's deadline, if > 0
		cancel   bool          // the context is canceled as the first answer arrives
		oneShot  bool          // the body cannot be replayed (no GetBody, buffering off)
		stop     Decision
		attempts int
		text     string // a regexp that Error() matches at its end
	}{
		{name: "permanent", pol: genericPolicy, steps: []llmretrytest.Step{oai.Error(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Message: "bad"})},
			stop: DecisionNotRetryable, attempts: 1, text: `: bad \[request \w+\]: not retried: the answer is permanent`},
		{name: "permanent after a retry", pol: genericPolicy, steps: []llmretrytest.Step{oai.ServerError(), oai.Error(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Message: "bad"})},
			stop: DecisionNotRetryable, attempts: 2, text: `: bad \[request \w+\]: stopped after 2 attempts: the answer is permanent`},
		{name: "retries exhausted", pol: maxRetries, steps: []llmretrytest.Step{oai.ServerError(), oai.ServerError(), oai.ServerError()},
			stop: DecisionRetriesExhausted, attempts: 3, text: `500 server_error.*: stopped after 3 attempts: retries exhausted`},
		{name: "no retry allowed", pol: noRetries, steps: []llmretrytest.Step{oai.ServerError()},
			stop: DecisionRetriesExhausted, attempts: 1, text: `500 server_error.*: not retried: no retry allowed \(MaxRetries or WithMaxRetries\)`},
		{name: "wait over MaxWait", pol: genericPolicy, steps: []llmretrytest.Step{oai.RateLimit(180)},
			stop: DecisionHintTooLong, attempts: 1, text: `429 rate_limited.*: not retried: server asked for 3m0s, over MaxWait 2m0s`},
		{name: "wait past the deadline", pol: genericPolicy, steps: []llmretrytest.Step{oai.RateLimit(30)}, timeout: 10 * time.Second,
			stop: DecisionPastDeadline, attempts: 1, text: `429 rate_limited.*: not retried: a wait of 30s would pass the deadline, [0-9.]+m?s away`},
		{name: "retry budget", pol: budget, steps: []llmretrytest.Step{oai.ServerError()},
			stop: DecisionBudgetExhausted, attempts: 1, text: `500 server_error.*: not retried: retry budget exhausted`},
		{name: "cancelled", pol: genericPolicy, steps: []llmretrytest.Step{oai.ServerError()}, cancel: true,
			stop: DecisionContextDone, attempts: 1, text: `500 server_error.*: not retried: context canceled`},
		{name: "body not replayable", pol: genericPolicy, steps: []llmretrytest.Step{oai.ServerError()}, oneShot: true,
			stop: DecisionNotReplayable, attempts: 1, text: `500 server_error.*: not retried: the request body cannot be sent again`},
		{name: "fallbacks exhausted", pol: fallback, steps: []llmretrytest.Step{oai.Overloaded(0), oai.Overloaded(0), oai.Overloaded(0)},
			stop: DecisionFallbacksExhausted, attempts: 3, text: `^llmretry: generic/other-model: 503 overloaded.*: stopped after 3 attempts: no fallback left; the last target: retries exhausted`},
	}
	for _, tt := range tests {
		for _, returnErrors := range []bool{true, false} {
			name := tt.name + "/ReturnErrors=false"
			if returnErrors {
				name = tt.name + "/ReturnErrors=true"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tr, srv, _ := setup(t, tt.pol())
				tr.ReturnErrors = returnErrors
				srv.Enqueue(tt.steps...)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.timeout > 0 {
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				if tt.cancel {
					base := tr.Base
					tr.Base = stopBase(func(r *http.Request) (*http.Response, error) {
						resp, err := base.RoundTrip(r)
						cancel()
						return resp, err
					})
				}
				var body io.Reader = strings.NewReader(chatBody)
				if tt.oneShot {
					tr.MaxBodyBuffer = -1
					body = io.NopCloser(body) // hides the reader's type: no GetBody
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", body)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := tr.RoundTrip(req)
				var apiErr *APIError
				if returnErrors {
					if !errors.As(err, &apiErr) {
						t.Fatalf("err = %v, want an *APIError", err)
					}
				} else {
					if err != nil {
						t.Fatalf("err = %v, want the response", err)
					}
					resp.Body.Close()
					if apiErr = ParseError(resp, nil); apiErr == nil {
						t.Fatalf("ParseError(%d response) = nil", resp.StatusCode)
					}
				}
				if apiErr.Decision != tt.stop || apiErr.Attempts != tt.attempts {
					t.Errorf("Stop, Attempts = %v, %d; want %v, %d", apiErr.Decision, apiErr.Attempts, tt.stop, tt.attempts)
				}
				if !regexp.MustCompile(tt.text + `$`).MatchString(apiErr.Error()) {
					t.Errorf("Error() = %q\n want it to end with %q", apiErr.Error(), tt.text)
				}
			})
		}
	}
}

// TestStopReasonTransportError checks that the error of a request whose
// attempts got no answer says why the Transport stopped, when it does not go
// without saying.
func TestStopReasonTransportError(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	// A retry the budget cannot pay for waits for a probe, unless none
	// is due before it would give up: here, no wait may pass MaxDelay.
	budget := func() *Policy {
		p := genericPolicy()
		p.Budget = RetryBudget{Reserve: 0.5}
		p.MaxDelay = 50 * time.Millisecond
		p.Backoff = func(int) time.Duration { return p.MaxDelay }
		return p
	}
	slow := func() *Policy {
		p := genericPolicy()
		p.BaseDelay, p.MaxDelay = 20*time.Second, 40*time.Second
		return p
	} // backoff ≥ 10 s
	maxRetries := func(n int) func() *Policy {
		return func() *Policy { p := genericPolicy(); p.MaxRetries = n; return p }
	}
	tests := []struct {
		name    string
		pol     func() *Policy
		timeout time.Duration
		text    string // a regexp that the error matches
	}{
		{name: "retries exhausted", pol: maxRetries(2),
			text: `^llmretry: gave up after 3 attempts in [0-9.]+m?s: retries exhausted: dial tcp: connection refused$`},
		{name: "no retry allowed", pol: maxRetries(-1),
			text: `^dial tcp: connection refused$`},
		{name: "retry budget", pol: budget,
			text: `^llmretry: not retried: retry budget exhausted: dial tcp: connection refused$`},
		{name: "wait past the deadline", pol: slow, timeout: 5 * time.Second,
			text: `^llmretry: not retried: a wait of [0-9.]+m?s would pass the deadline, [0-9.]+m?s away: dial tcp: connection refused$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, _ := setup(t, tt.pol())
			tr.Base = stopBase(func(*http.Request) (*http.Response, error) { return nil, refused })
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tr.RoundTrip(req)
			if err == nil || !regexp.MustCompile(tt.text).MatchString(err.Error()) {
				t.Errorf("err = %v\n want one matching %q", err, tt.text)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("errors.Is(%v, ECONNREFUSED) = false", err)
			}
		})
	}
}

// TestParseErrorAttached checks that the APIError a Transport attaches to a
// response it returns is read back by ParseError for that response only: not
// for a later response to a request made with the first one's context.
func TestParseErrorAttached(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, genericPolicy())
	srv.Enqueue(llmretrytest.Dialect("openai").RateLimit(180)) // over MaxWait, 2 min
	resp, _, err := post(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if e := ParseError(resp, nil); e == nil || e.Decision != DecisionHintTooLong {
		t.Fatalf("ParseError of the 429 = %v, want its Stop hint_too_long", e)
	}
	req, err := http.NewRequestWithContext(resp.Request.Context(), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if ok.StatusCode != 200 {
		t.Fatalf("status %d, want 200", ok.StatusCode)
	}
	if e := ParseError(ok, nil); e != nil {
		t.Errorf("ParseError of a 200 made with the 429's context = %v, want nil", e)
	}
}
