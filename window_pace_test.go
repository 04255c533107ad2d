package llmretry

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// cerebrasHeaders is what every answer of the bench's Cerebras style
// carries (llmretrytest style "cerebras"): the daily request window
// (14,400 a day, remaining left, reset at midnight) and a per-minute tokens
// window that binds nothing, while a silent bucket of 100/s refuses.
func cerebrasHeaders(remaining int) http.Header {
	return http.Header{
		"X-Ratelimit-Limit-Requests-Day":      {"14400"},
		"X-Ratelimit-Remaining-Requests-Day":  {strconv.Itoa(remaining)},
		"X-Ratelimit-Reset-Requests-Day":      {"33011.382867097855"},
		"X-Ratelimit-Limit-Tokens-Minute":     {"1000000000"},
		"X-Ratelimit-Remaining-Tokens-Minute": {"999990000"},
		"X-Ratelimit-Reset-Tokens-Minute":     {"41.5"},
	}
}

// TestPacingOutageEndUnderDailyWindow: a key whose every answer announces
// Cerebras's daily window (0.16 requests/s, all that remains at once) is
// paced by the estimate after the silent bucket's 429s (rate e, burst 1:
// its bucket nearly empty while it holds the key). A second and a half of
// nothing but 429s (one process of eight starved by its peers) starts an
// outage's probe at 1/s; the first answer accepted ends it and drops the
// estimate, and the daily window's pace is in force again. Its bucket kept
// the estimate's level (under one request) and refilled it at 0.16/s: the
// key sent one request every 6.2 s with the server idle (3 accepted in the
// 5 s after the server came back; bench fleet cerebras ×8, 3.36× and 4.01×
// of the optimum in two runs). A bucket whose burst grows keeps what it
// lacked, not its level: the window's remaining goes at once, as the
// headers say, and the server's 429s start the estimate again. One
// sequential client, 1 ms answers, against a 100/s bucket of 10; 5 seeds
// of the pacer's random source.
func TestPacingOutageEndUnderDailyWindow(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		outageEndUnderDailyWindow(t, seed)
	}
}

func outageEndUnderDailyWindow(t *testing.T, seed uint64) {
	p, ft := testPacer(cerebrasPolicy())
	r := seed * 7
	p.seams.rand = func() float64 {
		r = r*6364136223846793005 + 1442695040888963407
		return float64(r>>11) / (1 << 53)
	}
	left := 14400
	send := func(srv func(time.Time) bool) bool {
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		now := ft.Now()
		tk := p.send(bg(), now, 1, p.pacesTokens())
		ok := srv(now)
		resp := limited(cerebrasHeaders(left))
		if ok {
			left--
			resp = ok200(cerebrasHeaders(left))
		}
		ft.Sleep(bg(), time.Millisecond)
		at := ft.Now()
		p.observe(bg(), resp, cerebrasPolicy().classify(resp, nil, at), tk, at)
		return ok
	}
	srv := &simBucket{rate: 100, burst: 10}
	t0 := ft.Now()
	for ft.Now().Sub(t0) < 2*time.Second {
		send(srv.admit)
	}
	if _, est := p.limit(ft.Now()); est != estimated {
		t.Fatalf("seed %d: after 2 s against the silent bucket: the pace is not the estimate (%v)", seed, est)
	}
	down := ft.Now().Add(1500 * time.Millisecond)
	for ft.Now().Before(down) {
		send(func(time.Time) bool { return false })
	}
	if !p.lrn.Load().est.probing(ft.Now()) {
		t.Fatalf("seed %d: 1.5 s of nothing but 429s: no outage's probe (estimate %.1f/s)", seed, p.lrn.Load().est.base)
	}
	up := ft.Now()
	n := 0
	for ft.Now().Sub(up) < 5*time.Second {
		if send(srv.admit) {
			n++
		}
	}
	// The server takes 10 + 5 s × 100/s = 510; the key's estimate starts
	// again from its 429s. h/lead e3d131b: 3.
	if n < 250 {
		t.Errorf("seed %d: the 5 s after an outage's end under a daily window: %d accepted, want 250 at least (the server takes 510)", seed, n)
	}
	t.Logf("seed %d: %d accepted in the 5 s after the outage", seed, n)
}

// TestBucketBurstGrows: a bucket whose burst grows keeps what it lacked
// (here a debt of 0.5 below empty at burst 1), not its level; one whose
// burst shrinks keeps its level, capped at the new burst.
func TestBucketBurstGrows(t *testing.T) {
	t.Parallel()
	now := testNow
	var b bucket
	b.set(now, 1, 1)
	b.take(now, 1.5) // 0.5 in debt
	b.set(now, 0.16, 12_000)
	if got, want := b.at(now), 12_000-1.5; got != want {
		t.Errorf("burst 1 → 12000 with 1.5 taken: holds %v, want %v", got, want)
	}
	b.set(now, 0.16, 100)
	if got := b.at(now); got != 100 {
		t.Errorf("burst 12000 → 100: holds %v, want 100", got)
	}
	b.take(now, 40)
	b.set(now, 0.16, 90)
	if got := b.at(now); got != 60 {
		t.Errorf("burst 100 → 90 holding 60: holds %v, want 60", got)
	}
}

// TestBucketBurstTakesTurns: a key's callers may tell its bucket two paces
// in turn (an estimate's burst 1 and headers' 9, as src flips between
// them): each time the burst grows back, the bucket gave the difference
// anew, and let 8 more go every few milliseconds (bench matrix
// anthropic/requests: 33 attempts in 20 ms against a burst + 1 of 11).
func TestBucketBurstTakesTurns(t *testing.T) {
	t.Parallel()
	now := testNow
	var b bucket
	b.set(now, 148, 9)
	b.take(now, 9)
	sent := 0
	for range 20 {
		b.set(now, 109, 1)
		b.set(now, 148, 9)
		for b.need(now, 0, 1) <= 0 {
			b.take(now, 1)
			sent++
		}
	}
	if sent != 0 {
		t.Errorf("an empty bucket whose burst went 9 → 1 → 9 twenty times at one instant let %d go, want 0", sent)
	}
	// Refilled, it gives back what the larger burst would hold, no more.
	later := now.Add(30 * time.Millisecond) // 4.44 tokens at 148/s
	b.set(later, 109, 1)
	b.set(later, 148, 9)
	if got, want := b.at(later), 148*0.030; math.Abs(got-want) > 1e-9 {
		t.Errorf("after 30 ms at 148/s, flipped 9 → 1 → 9: holds %v, want %v", got, want)
	}
}
