package llmretry

import (
	"net/http"
	"testing"
	"time"
)

// refusedTimes answers the big request with a bare 429 on its first k
// attempts (the pace's luck in a fleet: its woken turns fell where the
// server's bucket was empty) and accepts it after.
func refusedTimes(k int) func(int, time.Duration) (int, string, time.Duration) {
	return func(n int, _ time.Duration) (int, string, time.Duration) {
		if n <= k {
			return http.StatusTooManyRequests, "", 0
		}
		return http.StatusOK, "", 0
	}
}

// A request of a fleet's key refused four times by the pace's luck, with
// the bench fleet's 10 retries and 24 s deadline, wakes at each of the
// key's accepted answers: openai-go sends at most seven retries in 24 s,
// so four wakes leave every SDK attempt the deadline allows its time
// (mayWake). With two wakes (b4431cb), its third retry waited for the
// SDK's second retry's time, 1.31 s after its first answer, while the key's
// others were accepted.
func TestWakesSpendRetriesAnSDKCannotUseBeforeTheDeadline(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 10, deadline: 24 * time.Second, notWoken: 5 * time.Second, answer: refusedTimes(4)})
	if r.ok() != 1 || len(r.at) != 5 {
		t.Fatalf("status %v, attempts at %v; want 200 at the fifth attempt", r.status, r.at)
	}
	// Each wake comes 50 ms into a backoff, then pacing turns (20/s) for
	// the small request and the retry: about 150 ms a retry.
	if r.at[4] > 800*time.Millisecond {
		t.Errorf("attempts at %v: a retry waited for the SDK's schedule; want each woken by the key's accepted answers (the fifth attempt by 800 ms)", r.at)
	}
}

// The wakes' bound where the deadline leaves an SDK all its retries: with
// no deadline, or one far enough for openai-go's ten, a request with 10
// retries wakes twice (maxRetryWakes), and its third retry keeps the SDK's
// second retry's time (1.31 s after its first answer at this jitter),
// whatever the wakes would allow.
func TestWakesBoundedWhereTheSDKUsesEveryRetry(t *testing.T) {
	for _, deadline := range []time.Duration{0, 60 * time.Second} {
		r := attack10Big(t, attack10Cfg{retries: 10, deadline: deadline, notWoken: 100 * time.Millisecond, answer: refusedTimes(4)})
		if r.ok() != 1 || len(r.at) != 5 {
			t.Fatalf("deadline %v: status %v, attempts at %v; want 200 at the fifth attempt", deadline, r.status, r.at)
		}
		if r.at[3] < 1300*time.Millisecond {
			t.Errorf("deadline %v: attempts at %v; want the fourth at the SDK's second retry's time (1.31 s) or later", deadline, r.at)
		}
	}
}

// With a deadline, a request refused for itself (5 s, MaxRetries 10, 10 s
// deadline: openai-go sends four retries before it, the fourth 5.625–7.5 s
// in, accepted) spends its spare retries on wakes and keeps the SDK's
// chances: accepted no later than openai-go's slowest.
func TestWakesBeforeADeadlineKeepTheSDKsChances(t *testing.T) {
	cfg := attack10Cfg{retries: 10, deadline: 10 * time.Second, notWoken: 100 * time.Millisecond, answer: refusedUntil(5*time.Second, 0)}
	r := attack10Big(t, cfg)
	g, at := openaiGo(cfg, 0)
	if g != http.StatusOK {
		t.Fatalf("openai-go: %d, attempts at %v; the scenario wants its 200", g, at)
	}
	if r.ok() != 1 || r.took > at[len(at)-1] {
		t.Errorf("status %v after %v, attempts at %v; want 200 by %v, openai-go's slowest", r.status, r.took, r.at, at[len(at)-1])
	}
}

// The retries a request's own backoff sends after an SDK's last attempt
// before the deadline are not the wakes' to spend: MaxRetries 10, a 10 s
// deadline, refused for itself for 8 s. openai-go's fifth attempt, at
// 5.6–7.5 s, is its last in time, refused. b4431cb (two wakes): attempts at
// the SDK's times to 6.56 s, then each paced step: accepted at 8.06 s.
// Counting only the SDK's retries before the deadline (f06d4af), seven
// wakes in 350 ms left its last attempt at 6.56 s: 429.
func TestWakesLeaveTheBackoffsRetriesAfterTheSDKsLast(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 10, deadline: 10 * time.Second, notWoken: 100 * time.Millisecond, answer: refusedUntil(8*time.Second, 0)})
	if r.ok() != 1 {
		t.Errorf("status %v after %v, attempts at %v; want 200: b4431cb's ninth attempt, at 8.06 s, is accepted", r.status, r.took, r.at)
	}
}

// An SDK's clock counts the attempts an SDK makes: the attempts of the spare
// wakes (past the first two) are not on it. MaxRetries
// 10, a 24 s deadline, 429s that take 300 ms, refused for itself for 3 s:
// woken four times (0.35 to 1.4 s), then at the SDK's times (jitter 0.5):
// 2.45, 3.96 s, accepted at 4.26 s. With the later wakes' 300 ms each on
// the clock, the retries after them went 0.9 s later (2.81, 4.86 s) and
// the request was accepted at 5.16 s, after openai-go's slowest (its
// fourth attempt at 3.53 s with jitter 1, 4.4 s with jitter 0: accepted by
// 4.7 s).
func TestWakesPastTheFirstAreNotOnTheSDKsClock(t *testing.T) {
	cfg := attack10Cfg{retries: 10, deadline: 24 * time.Second, notWoken: 100 * time.Millisecond, answer: refusedUntil(3*time.Second, 300*time.Millisecond)}
	r := attack10Big(t, cfg)
	slowest := time.Duration(0)
	for _, j := range []float64{0, 1} {
		g, at := openaiGo(cfg, j)
		if g != http.StatusOK {
			t.Fatalf("openai-go (jitter %v): %d, attempts at %v; the scenario wants its 200", j, g, at)
		}
		slowest = max(slowest, at[len(at)-1]+300*time.Millisecond)
	}
	if r.ok() != 1 || r.took > slowest {
		t.Errorf("status %v after %v, attempts at %v; want 200 by %v, openai-go's slowest", r.status, r.took, r.at, slowest)
	}
}

// With fewer than six retries, the deadline's spare retries are not the
// wakes': a fleet's pacing queue takes time their count does not see, and
// with few retries the one a wake took was the backoff's last chance after
// a refusal (bench fleet, every 20th request refused for itself for 1.5 s,
// MaxRetries 4, 3 s deadlines: 9–11 failed where one wake failed 0–2).
// MaxRetries 4, a 3 s deadline, refused 1.5 s: one wake, as before.
func TestWakesSpareOnlyWithManyRetries(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 4, deadline: 3 * time.Second, notWoken: 100 * time.Millisecond, answer: refusedUntil(1500*time.Millisecond, 0)})
	early := r.before(time.Second)
	if r.ok() != 1 || early != 2 {
		t.Errorf("status %v, attempts at %v: %d in the first second; want 200 and 2 (the first and one wake)", r.status, r.at, early)
	}
}

// With a deadline an SDK sends fewer than six retries before, the spare
// retries are not the wakes': they would crowd the few seconds the request
// has (bench fleet, self-refused requests, 10 retries, 3 s deadlines: up
// to 24 attempts in 20 ms, 0–12 failed where two wakes failed 1–2).
// MaxRetries 10, a 3 s deadline, refused 1.5 s: two wakes, as before.
func TestWakesSpareOnlyBeforeALongDeadline(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 10, deadline: 3 * time.Second, notWoken: 100 * time.Millisecond, answer: refusedUntil(1500*time.Millisecond, 0)})
	early := r.before(time.Second)
	if r.ok() != 1 || early != 3 {
		t.Errorf("status %v, attempts at %v: %d in the first second; want 200 and 3 (the first and two wakes)", r.status, r.at, early)
	}
}
