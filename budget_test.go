package llmretry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
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
			return llmretrytest.Dialect("openai").Overloaded(0)
		}
		return llmretrytest.Step{}
	})
	var decisions []Decision
	tr.Observer = onAttempt(func(a AttemptInfo) { decisions = append(decisions, a.Decision) })
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
	if !contains(decisions, DecisionBudgetExhausted) {
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
				return llmretrytest.Dialect("openai").Overloaded(0)
			}
			return llmretrytest.Step{}
		})
		tr.Observer = onAttempt(func(a AttemptInfo) {
			if a.Decision == DecisionBudgetExhausted {
				stopped++
			}
		})
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
		if !b.record(Verdict{Class: ClassRateLimited}) || !b.record(Verdict{Class: ClassOverloaded, Hint: hintRetryAfter, RetryAfter: time.Second}) {
			t.Fatal("429s and hinted answers must not spend the retry budget: pacing and hints handle them")
		}
	}
	paid := 0
	for i := 0; i < 20; i++ {
		if b.record(Verdict{Class: ClassServerError}) {
			paid++
		}
	}
	if paid < 11 || paid > 12 {
		t.Errorf("%d of 20 failures in a row retried, want 11 or 12: the reserve of 10 and what the attempts earned", paid)
	}
}

// TestRetryBudgetFinalAttemptsSpendNothing: an attempt after which no retry
// can follow (WithMaxRetries(ctx, 0), retries exhausted) earns for the budget but does
// not pay for a retry it never makes, so it cannot starve a later request.
func TestRetryBudgetFinalAttemptsSpendNothing(t *testing.T) {
	t.Parallel()
	pol := &Policy{Budget: RetryBudget{Reserve: 2, PerAttempt: 1e-9, PerSuccess: 1e-9}, Limits: Limits{DisableLearning: true}}
	tr, srv, _ := setup(t, pol)
	for i := 0; i < 5; i++ {
		srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
		req, _ := http.NewRequestWithContext(sendOnce(context.Background()), http.MethodPost, srv.URL, strings.NewReader(chatBody))
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
	}
	srv.Enqueue(llmretrytest.Dialect("openai").ServerError())
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
	resp, _, err := do(t, tr, req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(srv.Requests()), 5+2; got != want || resp.StatusCode != 200 {
		t.Errorf("%d attempts, last status %d; want %d and 200: the 500 after five final attempts must still be retried", got, resp.StatusCode, want)
	}
}

// TestRetryBudgetLine: the line of retries the budget cannot pay for. One
// at a time goes as a probe, the waits between probes doubling up to 30 s;
// probes borrow, older debts beyond the reserve forgiven; a success lets
// two waiting retries go and starts the probes over; a retry earned goes to
// the oldest in line, and back to the line if it is not used.
func TestRetryBudgetLine(t *testing.T) {
	t.Parallel()
	b := newBudget(RetryBudget{}, 500*time.Millisecond)
	b.balance = 0
	fail := Verdict{Class: ClassServerError}
	if b.spend(fail) {
		t.Fatal("an empty budget paid for a retry")
	}
	woken := map[*held]int{}
	var line []*held
	for i := 0; i < 12; i++ {
		var h *held
		h = b.hold(func() { woken[h]++ })
		line = append(line, h)
	}
	t0 := time.Now()
	now := t0
	var probes []time.Duration
	for i := 0; i < 9; i++ {
		if ok, _ := b.turn(line[len(line)-1], now, 0.5); !ok {
			t.Fatalf("probe %d: no turn at %v", i, now.Sub(t0))
		}
		for _, h := range line[:len(line)-1] { // the others wait for the next probe
			if ok, _ := b.turn(h, now, 0.5); ok {
				t.Fatalf("probe %d: two retries went at once", i)
			}
		}
		probes = append(probes, now.Sub(t0))
		line = line[:len(line)-1]
		_, now = b.turn(line[0], now, 0.5)
	}
	// Equal jitter with r = 0.5: 0.75 of 0.5 s, 1 s, 2 s, … up to 30 s.
	want := []time.Duration{0, 375 * time.Millisecond, 1125 * time.Millisecond, 2625 * time.Millisecond, 5625 * time.Millisecond,
		11625 * time.Millisecond, 23625 * time.Millisecond, 46125 * time.Millisecond, 68625 * time.Millisecond}
	if !slices.Equal(probes, want) {
		t.Errorf("probes at %v, want %v", probes, want)
	}
	if b.spend(fail) || len(b.line) != 3 || b.balance != -9 {
		t.Fatalf("after 9 probes: %d in line, balance %.1f; want 3 and −9, and no retry paid", len(b.line), b.balance)
	}
	b.turn(line[len(line)-1], now, 0.5)
	b.turn(line[len(line)-2], now.Add(time.Minute), 0.5)
	if b.balance != -10 {
		t.Errorf("balance %.1f after 11 probes, want −10: older debts are forgiven", b.balance)
	}

	line = append(line[:1], b.hold(func() {}), b.hold(func() {}))
	for _, h := range line[1:] {
		hh := h
		hh.wake = func() { woken[hh]++ }
	}
	b.earn(Verdict{Class: ClassOK}) // −10 + 0.6: no retry paid, but two go free
	if woken[line[0]] != 1 || woken[line[1]] != 1 || woken[line[2]] != 0 || len(b.line) != 1 {
		t.Errorf("a success woke %d, %d, %d (line %d), want the two oldest", woken[line[0]], woken[line[1]], woken[line[2]], len(b.line))
	}
	if ok, _ := b.turn(line[0], now, 0.5); !ok {
		t.Error("a retry a success let go may not go")
	}
	for i := 0; i < 200 && woken[line[2]] == 0; i++ { // attempts elsewhere earn 0.1 each
		b.earn(fail)
	}
	if woken[line[2]] != 1 || len(b.line) != 0 || !line[2].paid {
		t.Errorf("earned retries did not go to the one in line (woken %d, line %d)", woken[line[2]], len(b.line))
	}
	b.leave(line[2]) // it gave up after all: its retry goes back
	if got := b.available(); got < 1 {
		t.Errorf("balance %.2f after a paid retry was given back, want ≥ 1", got)
	}
}

// TestRetryBudgetHeldRetryEnds: a retry waiting for the budget ends with
// its context (its error returned), and without a deadline after MaxDelay
// (the answer it kept returned, budget_exhausted); either way it leaves the
// line. Another caller's probe (made by the test) takes its turn.
func TestRetryBudgetHeldRetryEnds(t *testing.T) {
	t.Parallel()
	// Reserve 0.5: no retry is ever paid. The next probe is due in 2 s; the
	// one after it 6 s later, past MaxDelay.
	pol := &Policy{Budget: RetryBudget{Reserve: 0.5}, BaseDelay: time.Second, MaxDelay: 4 * time.Second, Limits: Limits{DisableLearning: true}}
	start := func(t *testing.T, cancel func()) (*Transport, *llmretrytest.Server, *fakeTime, *budget) {
		tr, srv, ft := setup(t, pol)
		srv.Respond(func(llmretrytest.Request) llmretrytest.Step { return llmretrytest.Dialect("openai").Overloaded(0) })
		b := tr.budgets.get(pol)
		b.probes, b.probeAt = 3, ft.Now().Add(2*time.Second)
		sleeps := 0
		tr.sleep = func(ctx context.Context, d time.Duration) error {
			if sleeps++; sleeps == 2 && cancel != nil { // the backoff, then the wait for a turn
				cancel()
			}
			err := ft.Sleep(ctx, d)
			if now := ft.Now(); !now.Before(b.probeAt) && b.probes == 3 {
				b.turn(b.hold(func() {}), now, 0.5) // another caller's probe
			}
			return err
		}
		return tr, srv, ft, b
	}
	t.Run("no deadline", func(t *testing.T) {
		t.Parallel()
		tr, srv, ft, b := start(t, nil)
		var decisions []Decision
		tr.Observer = onAttempt(func(a AttemptInfo) { decisions = append(decisions, a.Decision) })
		t0 := ft.Now()
		resp, body, err := post(t, tr, srv.URL)
		if err != nil || resp.StatusCode != 503 || !strings.Contains(string(body), "service_unavailable") {
			t.Fatalf("got %v, %v %s; want the 503 answer, whole", err, resp, body)
		}
		if !slices.Equal(decisions, []Decision{DecisionBudgetExhausted}) {
			t.Errorf("decisions %v, want [budget_exhausted]", decisions)
		}
		if waited := ft.Now().Sub(t0); waited != 4*time.Second {
			t.Errorf("gave up after %v, want MaxDelay (4 s)", waited)
		}
		if got := len(srv.Requests()); got != 1 {
			t.Errorf("%d attempts, want 1", got)
		}
		if len(b.line) != 0 {
			t.Errorf("%d retries left in line", len(b.line))
		}
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		tr, srv, _, b := start(t, cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(chatBody))
		if _, err := tr.RoundTrip(req); !errorsIs(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(b.line) != 0 {
			t.Errorf("%d retries left in line", len(b.line))
		}
	})
}

// TestRetryBudgetFallsBackInsteadOfWaiting: a retry the budget cannot pay
// for is refused at once when a fallback target would take the refusal
// (FallbackOnExhausted), rather than waiting for its turn on the target
// that failed.
func TestRetryBudgetFallsBackInsteadOfWaiting(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	pol := gptGobPolicy()
	pol.Budget = RetryBudget{Reserve: 0.5} // no retry is ever paid
	pol.Fallbacks = []Target{{Model: "gob-small"}}
	pol.FallbackOnExhausted = true
	tr, srv, ft := setup(t, pol)
	srv.EchoModel()
	var at attempts
	tr.Observer = onAttempt(at.hook)
	srv.EnqueueModel("gob-large", gob.ServerError())
	resp, _, err := postBody(t, tr, srv.URL, largeBody)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := at.trail(), "fallback@ success@gob-small"; got != want || resp.StatusCode != 200 {
		t.Errorf("attempts: %s (status %d)\nwant:     %s", got, resp.StatusCode, want)
	}
	if w := ft.Waits(); len(w) != 0 {
		t.Errorf("waited %v before falling back, want no wait", w)
	}
}

// TestRetryBudgetHoldsBodylessAnswers: a 503 with an empty body (as load
// balancers send) waits for its turn like any other; only answers that
// cannot be kept in memory are returned at once.
func TestRetryBudgetHoldsBodylessAnswers(t *testing.T) {
	t.Parallel()
	pol := &Policy{Budget: RetryBudget{Reserve: 0.5}, Limits: Limits{DisableLearning: true}} // no retry is ever paid
	tr, srv, _ := setup(t, pol)
	srv.Enqueue(llmretrytest.Step{Status: 503})
	var decisions []Decision
	tr.Observer = onAttempt(func(a AttemptInfo) { decisions = append(decisions, a.Decision) })
	resp, _, err := post(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %v, %v; want 200 after a probe", err, resp)
	}
	if !slices.Equal(decisions, []Decision{DecisionRetry, DecisionSuccess}) {
		t.Errorf("decisions %v, want [retry success]", decisions)
	}
}

// record accounts for an attempt and reports whether a retry after it is
// paid for now. It is earn followed by spend.
func (b *budget) record(v Verdict) bool {
	b.earn(v)
	return b.spend(v)
}
