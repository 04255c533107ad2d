package llmretry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestRetryBudgetStopsRetriesInOutage: in a total outage retries stop after
// the reserve, but for one in about nine attempts; they come back with the
// successes.
func TestRetryBudgetStopsRetriesInOutage(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, &Policy{MaxRetries: 2, Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	down := true
	srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
		if down {
			return llmretrytest.OpenAI.Overloaded(0)
		}
		return llmretrytest.Step{}
	})
	var decisions []Decision
	tr.OnAttempt = func(a AttemptInfo) { decisions = append(decisions, a.Decision) }
	send := func() int {
		before := len(srv.Requests())
		if _, _, err := post(t, tr, srv.URL); err != nil {
			t.Fatal(err)
		}
		ft.Sleep(bg(), 200*time.Millisecond)
		return len(srv.Requests()) - before
	}

	n := 1000
	attempts := 0
	for i := 0; i < n; i++ {
		a := send()
		if i == 0 && a != 3 {
			t.Errorf("first request in the outage made %d attempts, want 3 (the reserve)", a)
		}
		attempts += a
	}
	// R retries: R ≤ reserve + 0.1·(n+R).
	retries := (defaultReserve + defaultPerAttempt*float64(n)) / (1 - defaultPerAttempt)
	if limit := n + int(retries); attempts > limit || float64(attempts)/float64(n) > 1.2 {
		t.Errorf("%d attempts for %d requests in a total outage, want ≤ %d (≤ 1.2 a request)", attempts, n, limit)
	}
	t.Logf("total outage: %.3f attempts a request", float64(attempts)/float64(n))
	if !contains(decisions, BudgetExhausted) {
		t.Error("no attempt was reported as budget_exhausted")
	}

	// Recovery: 20 successes earn the reserve back.
	down = false
	for i := 0; i < 20; i++ {
		send()
	}
	down = true
	if a := send(); a != 3 {
		t.Errorf("after 20 successes a failure made %d attempts, want 3: retries must resume", a)
	}
}

// TestRetryBudgetPartialFailure: with 30% of answers 503 without a hint, the
// budget never stops a retry, so the default succeeds as often as with the
// budget off (it once succeeded for 232 of 300 against 296).
func TestRetryBudgetPartialFailure(t *testing.T) {
	t.Parallel()
	run := func(b RetryBudget) (ok, stopped int) {
		tr, srv, _ := setup(t, &Policy{Budget: b})
		rng := rand.New(rand.NewPCG(30, 1))
		var mu sync.Mutex
		srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
			mu.Lock()
			defer mu.Unlock()
			if rng.IntN(100) < 30 {
				return llmretrytest.OpenAI.Overloaded(0)
			}
			return llmretrytest.Step{}
		})
		tr.OnAttempt = func(a AttemptInfo) {
			if a.Decision == BudgetExhausted {
				stopped++
			}
		}
		for i := 0; i < 300; i++ {
			resp, _, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == 200 {
				ok++
			}
		}
		return ok, stopped
	}
	def, stopped := run(RetryBudget{})
	off, _ := run(RetryBudget{Disabled: true})
	t.Logf("30%% hint-less 503s: %d/300 succeed with the default budget, %d/300 with none", def, off)
	if stopped > 0 || def != off {
		t.Errorf("default budget: %d/300 succeeded, %d retries stopped; with none %d/300: it must not stop retries at 30%% failures", def, stopped, off)
	}
}

func contains(ds []Decision, d Decision) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func TestRetryBudgetIgnoresHintedAnswers(t *testing.T) {
	t.Parallel()
	b := newBudget(RetryBudget{}, 0)
	for i := 0; i < 100; i++ { // 429s and hinted answers only
		if !b.record(Verdict{Class: RateLimited}) || !b.record(Verdict{Class: Overloaded, Hint: HintRetryAfter, RetryAfter: time.Second}) {
			t.Fatal("429s and hinted answers must not spend the retry budget: pacing and hints handle them")
		}
	}
	paid := 0
	for i := 0; i < 20; i++ {
		if b.record(Verdict{Class: ServerError}) {
			paid++
		}
	}
	if paid < 11 || paid > 12 {
		t.Errorf("%d of 20 failures in a row retried, want 11 or 12: the reserve of 10 and what the attempts earned", paid)
	}
}

// TestRetryBudgetFinalAttemptsSpendNothing: an attempt after which no retry
// can follow (WithoutRetry, retries exhausted) earns for the budget but does
// not pay for a retry it never makes, so it cannot starve a later request.
func TestRetryBudgetFinalAttemptsSpendNothing(t *testing.T) {
	t.Parallel()
	pol := &Policy{Budget: RetryBudget{Reserve: 2, PerAttempt: 1e-9, PerSuccess: 1e-9}, Limits: Limits{DisableLearning: true}}
	tr, srv, _ := setup(t, pol)
	for i := 0; i < 5; i++ {
		srv.Enqueue(llmretrytest.OpenAI.ServerError())
		req, _ := http.NewRequestWithContext(WithoutRetry(context.Background()), http.MethodPost, srv.URL, strings.NewReader(chatBody))
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
	}
	srv.Enqueue(llmretrytest.OpenAI.ServerError())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
	resp, _, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(srv.Requests()), 5+2; got != want || resp.StatusCode != 200 {
		t.Errorf("%d attempts, last status %d; want %d and 200: the 500 after five final attempts must still be retried", got, resp.StatusCode, want)
	}
}
