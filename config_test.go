package llmretry

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// Hosts keys are matched in any case and without a trailing dot; a key that
// is not a host name fails every RoundTrip with an error naming it, instead
// of never matching (issue 21, item 12).
func TestHostsKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key     string
		url     string
		wantErr string // "" means the key matches url
	}{
		{"LOCALHOST", "http://localhost:8080/v1", ""},
		{"Gob.Example.", "https://gob.example/v1", ""},
		{"gob.example", "https://GOB.example.:8443/v1", ""},
		{"::1", "http://[::1]:8080/v1", ""},
		{"[::1]", "http://[::1]:8080/v1", ""},
		{"*.Gob.Example", "https://eu.gob.example/v1", ""},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/v1", `"127.0.0.1:8080" has a port`},
		{"[::1]:8080", "http://[::1]:8080/v1", `"[::1]:8080" has a port`},
		{"http://gob.example", "http://gob.example/v1", `"http://gob.example" has a scheme`},
		{"gob.example/v1", "http://gob.example/v1", `"gob.example/v1" has a path`},
		{"user:sk-secret@gob.example", "http://gob.example/v1", `"…@gob.example" has user information`},
		{"", "http://gob.example/v1", `"" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			gob := gptGobPolicy()
			var called bool
			tr := &Transport{Hosts: map[string]*Policy{tt.key: gob},
				Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
					called = true
					return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
				})}
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			for range 2 { // the error is every RoundTrip's
				resp, err := tr.RoundTrip(req)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if got := tr.policyFor(req, requestOptions{}); got != gob {
						t.Errorf("policy %q, want the Hosts key's", got.name())
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "Transport.Hosts") {
					t.Fatalf("err = %v, want one naming the key: %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "sk-secret") {
					t.Errorf("the error quotes the key's password: %v", err)
				}
			}
			if tt.wantErr != "" && called {
				t.Error("a request was sent under an invalid Hosts key")
			}
		})
	}
}

func TestHostsKeysSameHost(t *testing.T) {
	t.Parallel()
	tr := &Transport{Hosts: map[string]*Policy{"gob.example": gptGobPolicy(), "GOB.example.": genericPolicy()},
		Base: roundTripFunc(func(*http.Request) (*http.Response, error) { t.Error("sent"); return nil, context.Canceled })}
	req, _ := http.NewRequest(http.MethodGet, "http://gob.example/v1", nil)
	_, err := tr.RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), `"GOB.example." and "gob.example" name the same host`) {
		t.Fatalf("err = %v, want the two keys named", err)
	}
}

// Negative (or NaN, or infinite) limits fail every RoundTrip with an error
// naming the field, instead of meaning "unlimited" (issue 21, item 13).
func TestLimitsRejectedWhenNegative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits Limits
		field  string
	}{
		{"negative burst", Limits{RequestsPerMinute: 60, RequestBurst: -3}, "Limits.RequestBurst is -3"},
		{"negative rate", Limits{RequestsPerMinute: -60}, "Limits.RequestsPerMinute is -60"},
		{"negative tokens", Limits{TokensPerMinute: -1}, "Limits.TokensPerMinute is -1"},
		{"negative token burst", Limits{TokensPerMinute: 60, TokenBurst: -1}, "Limits.TokenBurst is -1"},
		{"negative in flight", Limits{MaxInFlight: -2}, "Limits.MaxInFlight is -2"},
		{"NaN rate", Limits{RequestsPerMinute: math.NaN()}, "Limits.RequestsPerMinute is NaN"},
		{"infinite rate", Limits{TokensPerMinute: math.Inf(1)}, "Limits.TokensPerMinute is +Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pol := genericPolicy()
			pol.Name = "mine"
			pol.Limits = tt.limits
			base := roundTripFunc(func(*http.Request) (*http.Response, error) {
				t.Error("a request was sent under invalid limits")
				return nil, context.Canceled
			})
			for name, tr := range map[string]*Transport{
				"Policy":   {Policy: pol, Base: base},
				"Hosts":    {Hosts: map[string]*Policy{"x.example": pol}, Base: base},
				"fallback": {Policy: &Policy{Name: "primary", Fallbacks: []Target{{Model: "m", Policy: pol}}}, Base: base},
			} {
				req, _ := http.NewRequest(http.MethodPost, "http://x.example/v1", strings.NewReader("{}"))
				_, err := tr.RoundTrip(req)
				if err == nil || !strings.Contains(err.Error(), tt.field) || !strings.Contains(err.Error(), `Policy "mine"`) {
					t.Errorf("%s: err = %v, want one naming %q and the policy", name, err, tt.field)
				}
			}
		})
	}
}

// TestZeroAndNegative checks the rule for a config field: 0 means the
// default, a negative value means none; and that a function argument means
// what it says (WithMaxRetries(ctx, 0): no retry).
func TestZeroAndNegative(t *testing.T) {
	t.Parallel()
	oa := llmretrytest.Dialect("openai")
	tests := []struct {
		name      string
		pol       *Policy
		ctx       func(context.Context) context.Context
		script    []llmretrytest.Step
		wantTrail string
		wantWaits []time.Duration
	}{
		{"MaxRetries 0: the default, 2", &Policy{}, nil,
			[]llmretrytest.Step{oa.ServerError(), oa.ServerError(), oa.ServerError()}, "retry@ retry@ retries_exhausted@", []time.Duration{375 * time.Millisecond, 750 * time.Millisecond}},
		{"MaxRetries -1: no retry", &Policy{MaxRetries: -1}, nil,
			[]llmretrytest.Step{oa.ServerError()}, "retries_exhausted@", nil},
		{"WithMaxRetries(ctx, 0): no retry", &Policy{}, func(c context.Context) context.Context { return WithMaxRetries(c, 0) },
			[]llmretrytest.Step{oa.ServerError()}, "retries_exhausted@", nil},
		// MaxWait's default is openai-go's limit, 2 min (issue 20, finding 7):
		// a Retry-After: 61 is waited for, with or without a deadline that
		// allows it; one over 2 min is returned, as openai-go returns it.
		{"MaxWait 0: the default, 2 min: 61 s is waited", &Policy{}, nil,
			[]llmretrytest.Step{oa.RateLimit(61)}, "retry@ success@", []time.Duration{61 * time.Second}},
		{"MaxWait 0: 61 s within a 90 s deadline is waited", &Policy{}, func(c context.Context) context.Context {
			c, cancel := context.WithTimeout(c, 90*time.Second)
			t.Cleanup(cancel)
			return c
		}, []llmretrytest.Step{oa.RateLimit(61)}, "retry@ success@", []time.Duration{61 * time.Second}},
		{"MaxWait 0: 2 min is waited", &Policy{}, nil,
			[]llmretrytest.Step{oa.RateLimit(120)}, "retry@ success@", []time.Duration{120 * time.Second}},
		{"MaxWait 0: over 2 min is returned", &Policy{}, nil,
			[]llmretrytest.Step{oa.RateLimit(121)}, "hint_too_long@", nil},
		{"MaxWait -1: no hint is waited for", &Policy{MaxWait: -1}, nil,
			[]llmretrytest.Step{oa.RateLimit(1)}, "hint_too_long@", nil},
		{"BaseDelay 0: the default backoff", &Policy{}, nil,
			[]llmretrytest.Step{oa.ServerError()}, "retry@ success@", []time.Duration{375 * time.Millisecond}},
		{"BaseDelay -1: no backoff", &Policy{BaseDelay: -1}, nil,
			[]llmretrytest.Step{oa.ServerError()}, "retry@ success@", []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, tt.pol)
			var at attempts
			tr.Observer = onAttempt(at.hook)
			srv.Enqueue(tt.script...)
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(chatBody))
			if _, _, err := do(t, tr, req); err != nil {
				t.Fatal(err)
			}
			if got := at.trail(); got != tt.wantTrail {
				t.Errorf("attempts: %s, want %s", got, tt.wantTrail)
			}
			if got := ft.Waits(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits %v, want %v", got, tt.wantWaits)
			}
		})
	}
}
