package llmretry

import (
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestRetryBudgetStopsRetriesInOutage: 100% failure for 10 s stops retries;
// they resume once the server has recovered.
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
		ft.Sleep(bg(), 200*time.Millisecond) // one request every 200 ms of fake time
		return len(srv.Requests()) - before
	}

	// The outage: 50 requests over 10 s.
	var attempts []int
	for i := 0; i < 50; i++ {
		attempts = append(attempts, send())
	}
	if attempts[0] != 3 {
		t.Errorf("first request in the outage made %d attempts, want 3 (the budget's floor)", attempts[0])
	}
	for i, n := range attempts[10:] {
		if n != 1 {
			t.Fatalf("request %d of a sustained outage made %d attempts, want 1: retries must stop", i+10, n)
		}
	}
	if !contains(decisions, BudgetExhausted) {
		t.Error("no attempt was reported as budget_exhausted")
	}

	// Recovery: successes refill the budget at 0.2 tokens each. 10 are not
	// enough to retry again (2 of 10 tokens); 40 more are.
	down = false
	for i := 0; i < 10; i++ {
		send()
	}
	down = true
	if n := send(); n != 1 {
		t.Errorf("after 10 successes a failure made %d attempts, want 1 (budget still below half)", n)
	}
	down = false
	for i := 0; i < 40; i++ {
		send()
	}
	down = true
	if n := send(); n != 3 {
		t.Errorf("after 50 successes a failure made %d attempts, want 3: retries must resume", n)
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
	b := newBudget(RetryBudget{})
	for i := 0; i < 100; i++ {
		if !b.record(Verdict{Class: RateLimited}) || !b.record(Verdict{Class: Overloaded, Hint: HintRetryAfter, RetryAfter: time.Second}) {
			t.Fatal("429s and hinted answers must not spend the retry budget: pacing and hints handle them")
		}
	}
	for i := 0; i < 5; i++ {
		b.record(Verdict{Class: ServerError})
	}
	if b.record(Verdict{Class: ServerError}) {
		t.Error("6 failures in a row: the 10-token budget should be at or below half")
	}
}
