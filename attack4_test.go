package llmretry

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestHeldRetryGivesItsSlotBack: a retry waiting for the budget sends
// nothing, so it does not keep its in-flight slot, as a retry waiting out
// its backoff does not. With MaxInFlight 1 it once kept it: no other
// request could go, so none could succeed and let it go, and it waited for
// its probe (up to 30 s) with the service back up.
func TestHeldRetryGivesItsSlotBack(t *testing.T) {
	t.Parallel()
	pol := &Policy{Budget: RetryBudget{Reserve: 0.5}, BaseDelay: time.Second, MaxDelay: 40 * time.Second,
		Limits: Limits{MaxInFlight: 1, DisableLearning: true}}
	tr, srv, ft := setup(t, pol)
	srv.Enqueue(llmretrytest.Dialect("openai").Overloaded(0)) // then 200s
	b := tr.budgets.get(pol)
	b.probes, b.probeAt = 5, ft.Now().Add(30*time.Second) // no probe soon
	var other *http.Response
	var otherErr error
	sleeps := 0
	tr.sleep = func(ctx context.Context, d time.Duration) error {
		if sleeps++; sleeps == 1 { // the first request's backoff, in line
			octx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // real time: only the bug waits it out
			defer cancel()
			req, _ := http.NewRequestWithContext(octx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234") // the same key: the same slot
			if other, otherErr = tr.RoundTrip(req); otherErr == nil {
				other.Body.Close()
			}
		}
		return ft.Sleep(ctx, d)
	}
	t0 := ft.Now()
	resp, _, err := post(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %v, %v; want 200", resp, err)
	}
	if otherErr != nil || other.StatusCode != 200 {
		t.Fatalf("another request while a retry waited for the budget: %v, %v; want 200 (the waiting retry kept the only in-flight slot)", other, otherErr)
	}
	if waited := ft.Now().Sub(t0); waited >= 30*time.Second {
		t.Errorf("the held retry waited %v, want less than its probe (the other's success lets it go)", waited)
	}
}

// TestHostsKeysThatNeverMatch: a key with two "*" or an empty label (a
// leading dot as in a cookie domain, "..") could never match a host; it was
// skipped without a word. It fails every RoundTrip with an error naming it,
// as other such keys do. An IPv6 address with a zone is a host, not a port.
func TestHostsKeysThatNeverMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, url, wantErr string // wantErr "": the key matches url
	}{
		{"*.*.gob.example", "https://a.b.gob.example/v1", `"*.*.gob.example" has more than one *`},
		{"**.gob.example", "https://a.gob.example/v1", `has more than one *`},
		{".gob.example", "https://api.gob.example/v1", `".gob.example" has an empty label`},
		{"api..gob.example", "https://api.gob.example/v1", `has an empty label`},
		{"api.gob.example..", "https://api.gob.example/v1", `has an empty label`},
		{"*.", "http://localhost/v1", ""},
		{"fe80::1%eth0", "http://[fe80::1%25eth0]:8080/v1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			gob := GPTGob()
			tr := &Transport{Hosts: map[string]*Policy{tt.key: gob},
				Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
					return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
				})}
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			resp, err := tr.RoundTrip(req)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := tr.policyFor(req, requestOptions{}); got != gob {
					t.Errorf("policy %q, want the Hosts key's", got.name())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one naming the key: %s", err, tt.wantErr)
			}
		})
	}
}
