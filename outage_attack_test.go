package llmretry

// Attack 6 on the outage probe (d75599a): a server that refuses most
// attempts at random taken for one that takes nothing, and the release of
// the held requests at the outage's end (estimate.outage, estimate.release).

import (
	"testing"
	"time"
)

// TestAttack6RandomRefusalsNoOutage: a server that refuses 80% of attempts
// at random with bare 429s (an overloaded upstream, or one that sheds load)
// is not down: one attempt in five is accepted whatever the pace, and the
// pace only sets how many are. A run of eight refusals or more spanning a
// second (a run of refusals reaches eight from one start in six) is taken
// for an outage: the key is held to a 1/s probe until one is accepted, and
// each acceptance drops the estimate, so that the next run starts again
// from the floor. One sequential client, answers in 1 ms, 60 s, 5 seeds.
// Now a run must be improbable at the share the key had accepted
// (estimate.blind): 103–156 accepted.
func TestAttack6RandomRefusalsNoOutage(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		p, ft := testPacer(genericPolicy())
		r := seed * 7
		p.seams.rand = func() float64 {
			r = r*6364136223846793005 + 1442695040888963407
			return float64(r>>11) / (1 << 53)
		}
		s := seed * 99
		srv := func(time.Time) bool {
			s = s*2862933555777941757 + 3037000493
			return float64(s>>11)/(1<<53) >= 0.8
		}
		t0 := ft.Now()
		accepted, sent := 0, 0
		for ft.Now().Sub(t0) < 60*time.Second {
			sent++
			if zSendOne(p, ft, srv) {
				accepted++
			}
		}
		t.Logf("seed %d: %d sent, %d accepted in 60 s", seed, sent, accepted)
		if accepted < 80 {
			t.Errorf("seed %d: %d accepted in 60 s from a server that accepts one attempt in five, want 80 at least (7971eba: 103-168 with these seeds; eba38fe: 58-123; h/outage2: 103-156)", seed, accepted)
		}
	}
}

// TestOutageAfterServerTookEverything: the share test of estimate.blind
// must not slow the outage's detection for a key whose server took every
// attempt for long (its share accepted is exactly 1, where any run of
// outageMin refusals over outageSpan is improbable). A sequential client,
// 1 ms answers; the server refuses one attempt, which starts the estimate,
// takes every other for 5 s (thousands: the refusal's weight in the share
// decays to nothing), then refuses everything with bare 429s while the
// client sends 10 requests a second: the key probes within 3 s, as before the share test. Guarded by "share < 1", it
// needed outageLongRun (64) refusals in a row, a minute at the floor's pace.
func TestOutageAfterServerTookEverything(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	t0 := ft.Now()
	down := t0.Add(5 * time.Second)
	first := true
	srv := func(now time.Time) bool {
		if first {
			first = false
			return false
		}
		return now.Before(down)
	}
	for ft.Now().Before(down) {
		zSendOne(p, ft, srv)
	}
	for ft.Now().Before(down.Add(3 * time.Second)) { // a quieter client now: 10 requests a second
		zSendOne(p, ft, srv)
		ft.Sleep(bg(), 100*time.Millisecond)
	}
	if e := p.lrn.Load().est; !e.probing(ft.Now()) {
		t.Errorf("3 s into an outage after a server that took everything for 5 s: no outage's probe (estimate %.1f/s, share at the run's start %.2f)", e.base, e.runShare)
	}
}
