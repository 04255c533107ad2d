package llmretry

import (
	"net/http"
	"testing"
	"time"
)

// Attack 11 (f06d4af: mayWake lets a request wake up to MaxRetries − D + 1
// times, D being how many of an SDK's retries its deadline allows,
// sdkRetriesBefore). Each test fails on f06d4af and passes on b4431cb and on
// the rule merged after it.

// Attack 11, finding 1: the retries spent on wakes are the ones b4431cb sent
// after the SDK's last attempt before the deadline. A request refused for
// itself (fast bare 429s, the key's small requests accepted meanwhile) with
// MaxRetries 10 and a 10 s deadline: D = 4, so it may wake 7 times. f06d4af:
// attempts at 0, 50 ms … 350 ms (7 wakes), 1.31 s, 3.06 s (the SDK's
// retries 2 and 3), 6.56 s (the last retry: the SDK's last before the
// deadline): 429 at 6.56 s with 3.4 s of the deadline left. b4431cb: 0,
// 50, 100 ms, 1.31, 3.06, 6.56 s, then paced retries at 7.31, 8.06, 8.81,
// 9.56 s: 200 at 9.56 s. openai-go: 0, 0.375–0.5, 1.125–1.5, 2.625–3.5,
// 5.625–7.5 s, its next past the deadline: 429. With a 16 s deadline,
// refused 14 s: f06d4af's last at 13.56 s (429), b4431cb's 200 at 14.31 s,
// openai-go's fifth retry at 11.6–15.5 s (200 when it comes at 14 s or
// later, jitter ≤ 0.39).
func TestAttack11WakesSpendTheRetriesSentAfterTheSDKsLast(t *testing.T) {
	for _, c := range []struct{ deadline, refused time.Duration }{
		{10 * time.Second, 9 * time.Second},
		{16 * time.Second, 14 * time.Second},
	} {
		cfg := attack10Cfg{retries: 10, deadline: c.deadline, notWoken: 500 * time.Millisecond, answer: refusedUntil(c.refused, 0)}
		r := attack10Big(t, cfg)
		if r.ok() != 1 {
			t.Errorf("deadline %v, refused %v: status %v after %v, attempts at %v; want 200 (b4431cb: 200 before the deadline, its retries after the SDK's last kept)", c.deadline, c.refused, r.status, r.took, r.at)
		}
	}
}

// Attack 11, finding 2: c.first, the SDK's clock, moves by each attempt's
// Elapsed, the woken attempts' too, which an SDK never sends; and D shrinks
// as it moves, so a request may wake again after its retries have begun to
// keep the SDK's times. With slow 429s (1 s each), MaxRetries 10, 24 s
// deadline, refused 17 s: f06d4af's attempts at 0, 1.05, 2.1, 3.15, 4.2,
// 5.25 s (5 wakes), 7.31 s (the SDK's retry 2), 8.36 s (a sixth wake: D
// fell from 6 to 5), 11.06, 15.56 s, then 23.56 s (the last, 10 s of
// answers on its clock where the SDK's has 5): its answer comes at 24.56 s,
// after the deadline. b4431cb: 0, 1.05, 2.1, 4.31, 7.06, 11.56, 19.56 s:
// 200 at 20.56 s. openai-go (answers 1 s): its fifth retry at 16.6–20.5 s,
// 200 at 18.56 s at the same jitter (0.5), for any jitter ≤ 0.9.
func TestAttack11SlowAnswersDriftTheSDKClockPastTheDeadline(t *testing.T) {
	cfg := attack10Cfg{retries: 10, deadline: 24 * time.Second, notWoken: 500 * time.Millisecond, answer: refusedUntil(17*time.Second, time.Second)}
	r := attack10Big(t, cfg)
	if r.ok() != 1 || r.took > cfg.deadline {
		t.Errorf("status %v, answered at %v (deadline %v), attempts at %v; want 200 before the deadline: b4431cb 200 at 20.56 s, openai-go 200 at 18.56 s at the same jitter", r.status, r.took, cfg.deadline, r.at)
	}
}

// Attack 11, finding 2b: the same drift without a failure. Slow 429s (1
// s), MaxRetries 10, 40 s deadline, refused 9 s: D falls from 9 to 8 after
// the fifth attempt, a third wake comes at 8.11 s, mid-schedule, and the
// next retry keeps the SDK's retry 4 again, a second later: 200 at 12.56 s.
// b4431cb: 200 at 11.56 s; openai-go: 9.62–11.5 s.
func TestAttack11LateWakeRepeatsAnSDKRetry(t *testing.T) {
	cfg := attack10Cfg{retries: 10, deadline: 40 * time.Second, notWoken: 500 * time.Millisecond, answer: refusedUntil(9*time.Second, time.Second)}
	r := attack10Big(t, cfg)
	if r.ok() != 1 || r.at[len(r.at)-1] > 12*time.Second {
		t.Errorf("status %v, attempts at %v; want 200 sent by 12 s: b4431cb 11.56 s, openai-go 9.62–11.5 s", r.status, r.at)
	}
}

// Attack 11, finding 3: a 5xx after the wakes backs off by its attempt's
// number, with no floor while wakes are left (mayWake), so the wakes'
// attempts double its backoff. MaxRetries 10, 24 s deadline (D = 7: 4
// wakes), three bare 429s then 503s until 4 s: f06d4af's attempts at 0,
// 50, 100, 150 ms (3 wakes), 503, 3.15 s (backoff of retry 4: 3 s), 503,
// 9.15 s (6 s): 200 at 9.15 s. b4431cb: 0, 50, 100 ms, 1.31 s (the
// SDK's second retry), 4.31 s: 200. openai-go: 0, 0.5, 1.5, 3.5, 7.5 s
// (j=0) or … 5.625 s (j=1): 200 by 7.5 s.
func TestAttack11FiveHundredAfterWakesBacksOffByTheWakesCount(t *testing.T) {
	cfg := attack10Cfg{retries: 10, deadline: 24 * time.Second, notWoken: 500 * time.Millisecond,
		answer: func(n int, at time.Duration) (int, string, time.Duration) {
			switch {
			case at >= 4*time.Second:
				return http.StatusOK, "", 0
			case n <= 3:
				return http.StatusTooManyRequests, "", 0
			}
			return http.StatusServiceUnavailable, "", 0
		}}
	r := attack10Big(t, cfg)
	_, at := openaiGo(cfg, 0)
	if r.ok() != 1 || r.at[len(r.at)-1] > at[len(at)-1] {
		t.Errorf("status %v, attempts at %v; want 200 sent by %v (openai-go's slowest; b4431cb 4.31 s)", r.status, r.at, at[len(at)-1])
	}
}

// Attack 11, finding 4: with a BaseDelay of 2 s and a 1.9 s deadline an
// SDK sends one retry before it (its first at 1.5–2 s: D = 1), so every
// retry but the last may wake. Refused for itself for 1 s, MaxRetries 10:
// f06d4af wakes 9 times within 450 ms, and its last retry waits its backoff
// from there (1.5 s at step 1, 3 s when its own 429s have doubled the step,
// backoffStep), past the deadline: the call ends (PastDeadline) at 450 ms
// with 429. b4431cb: 0, 50, 100 ms, then 1.75 s (the SDK's first retry at
// this base, jitter 0.5): 200. An SDK with BaseDelay 2 s: its retry at
// 1.5–1.9 s (jitter ≥ 0.2) is accepted.
func TestAttack11WokenRetriesRunIntoADeadlineCheck(t *testing.T) {
	cfg := attack10Cfg{retries: 10, deadline: 1900 * time.Millisecond, base: 2 * time.Second, notWoken: 500 * time.Millisecond, answer: refusedUntil(time.Second, 0)}
	r := attack10Big(t, cfg)
	if r.ok() != 1 {
		t.Errorf("status %v after %v, attempts at %v; want 200 (b4431cb: 200 at 1.75 s, before the 1.9 s deadline)", r.status, r.took, r.at)
	}
}

// Attack 11, finding 5: with a short deadline the wakes' bound is gone, and
// a request the server refuses for itself sends most of its retries within
// a few hundred milliseconds, what maxRetryWakes was made to stop (attack 7
// finding 4, attack 9 finding 3). MaxRetries 10, a 5 s deadline (D = 3:
// eight wakes), refused 3 s: f06d4af's attempts at 0, 50 … 400 ms (nine in
// 400 ms), then 1.31, 3.06 s: 11 attempts. b4431cb: 0, 50, 100 ms, 1.31,
// 3.06 s: 5 (3 in the first second). openai-go: 0, 0.375–0.5, 1.125–1.5,
// 2.625–3.5 s: 4 (2 in the first second). All three get their 200 at
// 3.06–3.5 s: the seven extra attempts buy nothing.
//
// Fixed: spare wakes need a deadline before which an SDK sends six retries
// or more (mayWake), and are at most maxSpareWakes; with this 5 s deadline
// the request wakes twice, as on b4431cb (docs/runs/2026-12-07-wakes.md).
func TestAttack11ShortDeadlineUnboundsTheWakes(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 10, deadline: 5 * time.Second, notWoken: 500 * time.Millisecond, answer: refusedUntil(3*time.Second, 0)})
	early := r.before(time.Second)
	if early > 3 {
		t.Errorf("status %v, attempts at %v: %d in the first second; want 3 at most (b4431cb: 3, openai-go: 2)", r.status, r.at, early)
	}
	if r.ok() != 1 {
		t.Errorf("status %v, attempts at %v; want 200 (b4431cb and openai-go: 200 at 3.06–3.5 s)", r.status, r.at)
	}
}
