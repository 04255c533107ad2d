package llmretry

import (
	"net/http"
	"os"
	"testing"
	"time"
)

// attack9Result is what attack9Big saw of one big request.
type attack9Result struct {
	status int             // the big request's final status (0: an error)
	at     []time.Duration // its attempts, from its start
	took   time.Duration   // until RoundTrip returned
}

// attack9Big sends one big request through a Transport on a key paced by
// a fleet's estimate (attack10Big, attack10_test.go), with retries
// retries, to a server that refuses it with a bare 429 while it is younger
// than refusedFor (a prompt too big for the tokens left: refused for
// itself) and accepts the key's small requests, one of which is sent 50 ms
// into each of the big request's backoffs. deadline > 0 sets the big
// request's deadline. notWoken is cfg.notWoken (0: 300 ms).
func attack9Big(t *testing.T, retries int, refusedFor, deadline, notWoken time.Duration) attack9Result {
	t.Helper()
	r := attack10Big(t, attack10Cfg{retries: retries, deadline: deadline, notWoken: notWoken, answer: refusedUntil(refusedFor, 0)})
	return attack9Result{status: r.status[0], at: r.at, took: r.took}
}

// TestAttack9Explore logs the big request's attempts over a grid of
// MaxRetries, refusal lengths and deadlines (ATTACK9_EXPLORE=1).
func TestAttack9Explore(t *testing.T) {
	if os.Getenv("ATTACK9_EXPLORE") == "" {
		t.Skip("ATTACK9_EXPLORE=1 runs it")
	}
	for _, retries := range []int{2, 3, 4, 5, 6, 8, 10} {
		for _, refused := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second} {
			for _, dl := range []time.Duration{0, 3 * time.Second, 5 * time.Second, 10 * time.Second} {
				r := attack9Big(t, retries, refused, dl, 100*time.Millisecond)
				t.Logf("retries %d refused %v deadline %v: status %d took %v attempts %v", retries, refused, dl, r.status, r.took.Round(time.Millisecond), r.at)
			}
		}
	}
}

// Attack 9, finding 1: a request refused for itself (a prompt too big for
// the tokens left: bare 429s while the key's small requests are taken) on
// a key paced by the fleet's estimate, with MaxRetries 4 and a 3 s
// deadline; the server takes it after 1 s. Each backoff is woken by the
// key's next accepted answer, so its first four attempts go within 150 ms;
// the last retry then owes the whole skipped backoff plus a doubled step
// (3 s + 3 × 325 ms), which ends past the deadline: the call returns the
// 429 (PastDeadline) 150 ms in, with a retry unused. main (c75c6b5): woken
// once, the second retry waits its doubled step and goes at 1.125 s, and
// is accepted. openai-go with MaxRetries 4 (0.5 s·2^n less up to a quarter)
// goes at 0.375–0.5 s, 1.125–1.5 s, 2.625–3.5 s: accepted at its third
// attempt, 1.125–1.5 s in.
func TestAttack9LastRetryOwedPastDeadlineFails(t *testing.T) {
	r := attack9Big(t, 4, time.Second, 3*time.Second, 0)
	if r.status != http.StatusOK {
		t.Errorf("status %d after %v, attempts at %v; want 200: the server takes the request after 1 s, 2 s before its deadline, and openai-go's third attempt (1.125–1.5 s) gets it", r.status, r.took, r.at)
	}
}

// Attack 9, finding 2: the same request with no deadline and MaxRetries 5.
// Its first five attempts go within 200 ms and its last at 7.5 s (6 s
// step + 4 × 325 ms owed); main's third attempt goes at 1.125 s and is
// accepted; openai-go's third at 1.125–1.5 s.
func TestAttack9LastRetryOwedDelaysSuccess(t *testing.T) {
	r := attack9Big(t, 5, time.Second, 0, 0)
	if r.status != http.StatusOK || r.took > 2*time.Second {
		t.Errorf("status %d after %v, attempts at %v; want 200 by 2 s: the server takes the request after 1 s, main at 1.125 s, openai-go at 1.125–1.5 s", r.status, r.took, r.at)
	}
}

// Attack 9, finding 3: the load of a request refused for itself. With
// MaxRetries 10 (the bench's) and a server that refuses it for 3 s while it
// takes the key's small requests, every retry but the last is woken by the
// key's next accepted answer: ten attempts, all refused, within its first
// 500 ms, each a turn at the key's pace taken from the fleet's requests and
// a 429 told to the fleet's estimate; then one attempt 9 s later (a 6 s
// step and 9 × 325 ms owed). main sends two in its first second (woken
// once, then its doubling backoff: 1.125 s, 2.625 s, 5.625 s, accepted);
// openai-go two or three (0, 0.375–0.5 s; the third at 1.125 s or later).
func TestAttack9RefusedRequestBurnsRetriesAtOnce(t *testing.T) {
	r := attack9Big(t, 10, 3*time.Second, 0, 0)
	first := 0
	for _, at := range r.at {
		if at < time.Second {
			first++
		}
	}
	if first > 3 {
		t.Errorf("%d attempts in the first second (at %v; status %d after %v); want at most 3, as openai-go's", first, r.at, r.status, r.took)
	}
}

// Attack 9, finding 4: with no deadline at all, the last attempt comes
// sooner than main's and openai-go's. MaxRetries 4; the server refuses the
// big request for its first 5 s. Woken three times, it owes three first
// steps (3 × 325 ms), not the doubling ones it skipped: its last attempt
// goes at 4.125 s (3 s step + 975 ms owed + 150 ms), refused. main's fifth
// attempt goes at 5.625 s, openai-go's at 5.625–7.5 s (0.5 + 1 + 2 + 4 s,
// each less up to a quarter): both are accepted.
func TestAttack9LastRetrySoonerThanSDK(t *testing.T) {
	r := attack9Big(t, 4, 5*time.Second, 0, 0)
	if r.status != http.StatusOK {
		t.Errorf("status %d after %v, attempts at %v; want 200: openai-go's fifth attempt goes 5.625 s in at the earliest, after the refusal", r.status, r.took, r.at)
	}
}
