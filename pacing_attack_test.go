package llmretry

// Attacks on zero-config pacing found by a review with a fresh context.

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestPacingHostileSlowRateHoldsNoLonger: a token bucket announced to
// refill over a year gives a learned rate so slow that its wait overflows
// a Duration; the request is held for MaxWait at most, not forever.
func TestPacingHostileSlowRateHoldsNoLonger(t *testing.T) {
	t.Parallel()
	var slept []time.Duration
	ft := &fakeTime{now: testNow}
	mem := &MemoryLimiter{seams: &seams{now: ft.Now, sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ft.Sleep(ctx, d)
	}}}
	p := newPacer(genericPolicy(), "k", mem, mem.seams)
	// A hostile/buggy token bucket: refills over a year (plausible ≤ 366 d).
	h := http.Header{"X-Ratelimit-Limit-Tokens": {"20000"}, "X-Ratelimit-Remaining-Tokens": {"19999"}, "X-Ratelimit-Reset-Tokens": {"31536000"}}
	observeAt(p, ok200(h), testNow)
	lim, src := p.limit(testNow)
	t.Logf("learned %v tokens/s burst %d src %v", lim.TokenRate, lim.TokenBurst, src)
	for i := 0; i < 6; i++ {
		if err := p.acquire(bg(), 5000, ft.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range slept {
		if d > p.pol.maxWait() {
			t.Errorf("a learned pace slept %v, beyond MaxWait %v", d, p.pol.maxWait())
		}
	}
}

// TestPacingWindowGuessCorrected: 1 s windows that begin off the whole
// second, announced with resets in whole Unix seconds rounded up (up to 2 s
// seen of the first window), are not taken for 10 s windows for good: the
// key gets most of the server's allowance, aligned or not.
func TestPacingWindowGuessCorrected(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{0, 500 * time.Millisecond} {
		t.Run(offset.String(), func(t *testing.T) { windowGuessRun(t, offset) })
	}
}

func windowGuessRun(t *testing.T, offset time.Duration) {
	t.Helper()
	p, ft := testPacer(genericPolicy())
	const limit = 5
	// Server: windows of 1 s starting at start+k s, start = testNow+0.5 s.
	start := testNow.Add(offset)
	used := map[int64]int{}
	serve := func(now time.Time) *http.Response {
		k := int64(now.Sub(start) / time.Second)
		used[k]++
		end := start.Add(time.Duration(k+1) * time.Second)
		resetUnix := (end.UnixNano() + int64(time.Second) - 1) / int64(time.Second) // rounded up
		rem := limit - used[k]
		if rem < 0 {
			return limited(http.Header{"X-Ratelimit-Limit": {strconv.Itoa(limit)}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(resetUnix, 10)}})
		}
		return ok200(http.Header{"X-Ratelimit-Limit": {strconv.Itoa(limit)}, "X-Ratelimit-Remaining": {strconv.Itoa(rem)}, "X-Ratelimit-Reset": {strconv.FormatInt(resetUnix, 10)}})
	}
	ft.now = start.Add(10 * time.Millisecond)
	sent, refused := 0, 0
	deadline := start.Add(30 * time.Second)
	for ft.Now().Before(deadline) {
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		now := ft.Now()
		tk := p.send(bg(), now, 1, false)
		resp := serve(now)
		ans := now.Add(20 * time.Millisecond)
		v := genericPolicy().classify(resp, nil, ans)
		p.observe(bg(), resp, v, tk, ans)
		if resp.StatusCode == 429 {
			refused++
		} else {
			sent++
		}
		ft.now = ans.Add(10 * time.Millisecond)
	}
	w := &p.lrn.Load().win[unitRequests]
	t.Logf("accepted %d, refused %d in 30 s; window length %v guessed=%v", sent, refused, time.Duration(w.length), w.guessed)
	if sent < 30*limit/2 {
		t.Errorf("accepted %d in 30 s against a server allowing %d/s (%d): the guessed window slowed a 429-free key", sent, limit, 30*limit)
	}
}

// TestPacingStalePeakForgotten: what an estimate learned does not outlive
// it: an hour after 200/s were accepted, a server that allows 10/s is
// paced near 10/s.
func TestPacingStalePeakForgotten(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	now := testNow
	refuse := func(at time.Time) { observeAt(p, limited(nil), at) }
	accept := func(at time.Time) { observeAt(p, ok200(nil), at) }
	// Phase 1: 200/s accepted between 429s a second apart.
	for s := 0; s < 4; s++ {
		for i := 0; i < 200; i++ {
			accept(now.Add(time.Duration(i) * 5 * time.Millisecond))
		}
		now = now.Add(time.Second)
		refuse(now)
	}
	// An hour later, the server allows 10/s: it accepts 10 a second, refuses the rest.
	now = now.Add(time.Hour)
	for s := 0; s < 20; s++ {
		for i := 0; i < 10; i++ {
			accept(now.Add(time.Duration(i) * 10 * time.Millisecond))
		}
		for i := 0; i < 5; i++ {
			refuse(now.Add(100*time.Millisecond + time.Duration(i)*100*time.Millisecond))
		}
		now = now.Add(time.Second)
	}
	got, _ := p.limit(now)
	if got.RequestRate > 20 {
		t.Errorf("estimate %v/s against a server allowing 10/s: what was accepted an hour ago floors it", got.RequestRate)
	}
}

// From a second attack, on growth with answers, the ceiling and the tokens
// measure.

// TestPacingErrorsDoNotGrowEstimate: 503/529 answers (the service is at
// capacity) are not accepted answers: they must not grow the estimate.
func TestPacingErrorsDoNotGrowEstimate(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 503, 529} {
		p, _ := testPacer(genericPolicy())
		for i := 0; i < 10; i++ {
			observeAt(p, ok200(nil), testNow)
		}
		observeAt(p, limited(nil), testNow) // first cut: 10/s, slow start
		before, _ := p.limit(testNow)
		now := testNow.Add(10 * time.Millisecond)
		for i := 0; i < 50; i++ {
			observeAt(p, response(status, nil, `{"error":{"type":"overloaded_error","message":"Overloaded"}}`), now)
		}
		after, _ := p.limit(now)
		t.Logf("status %d: %v/s -> %v/s", status, before.RequestRate, after.RequestRate)
		if after.RequestRate > before.RequestRate {
			t.Errorf("status %d: 50 answers %d grew the estimate from %v/s to %v/s; only accepted answers may", status, status, before.RequestRate, after.RequestRate)
		}
	}
}

var _ = http.Header{}

// sendOne sends one request through p at the pacer's pace, answered by srv.
func zSendOne(p *pacer, ft *fakeTime, srv func(time.Time) bool) bool {
	if err := p.acquire(bg(), 1, ft.Now()); err != nil {
		panic(err)
	}
	now := ft.Now()
	tk := p.send(bg(), now, 1, false)
	resp := ok200(nil)
	ok := srv(now)
	if !ok {
		resp = limited(nil)
	}
	ft.Sleep(bg(), time.Millisecond)
	at := ft.Now()
	p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
	return ok
}

// TestPacingCeilingNotFromDemand: a key that converged on
// a 100/s server, then sent at 30/s (its demand), is refused a burst by
// the server (another client on the key drained its bucket for 300 ms).
// The rate "measured" between 429s is the client's 30/s demand, not the
// server's limit; the cut keeps half the rate (cutFloor), but the ceiling
// at 99% of the 30/s measure holds the pace there for 10 s: once demand
// returns, the key gets ~50/s of a 100/s server for 10 s.
func TestPacingCeilingNotFromDemand(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	srv := &simBucket{rate: 100, burst: 10}
	simulate(p, ft, srv.admit, 3000, nil)
	// Demand-limited: 30/s for 3 s, well under the server's limit.
	for i := 0; i < 90; i++ {
		zSendOne(p, ft, srv.admit)
		ft.Sleep(bg(), 33*time.Millisecond)
	}
	// Another client drains the bucket: 300 ms of refusals.
	drainEnd := ft.Now().Add(300 * time.Millisecond)
	for ft.Now().Before(drainEnd) {
		zSendOne(p, ft, func(time.Time) bool { return false })
		ft.Sleep(bg(), 10*time.Millisecond)
	}
	e := p.lrn.Load().est
	t.Logf("after the drain: base %.1f/s ceiling %.1f/s", e.base, e.ceiling)
	srv.tokens, srv.last = srv.burst, ft.Now()
	start := ft.Now()
	var acc []time.Time
	for ft.Now().Sub(start) < 10*time.Second {
		if zSendOne(p, ft, srv.admit) {
			acc = append(acc, ft.Now())
		}
	}
	perSec := map[int]int{}
	for _, a := range acc {
		perSec[int(a.Sub(start)/time.Second)]++
	}
	t.Logf("accepted per second after demand returns: %v", perSec)
	// 8 s on, growing at 5%/s, the pace is back near the server's 100/s.
	if n := perSec[8] + perSec[9]; n < 2*75 {
		t.Errorf("seconds 8–10 after demand returned: %d accepted, want ≥ 150 of a 100/s server: the ceiling (%.1f/s), measured from the client's own 30/s demand, pins the pace for 10 s", n, e.ceiling)
	}
}

// TestPacingOneTokenRequestsKeepTokenMeasure: on a key whose requests vary in
// cost (10–300 tokens) against a tokens limit that refuses with bare 429s,
// a few requests that really cost 1 token (a GET without a body, which
// EstimateTokens counts as 1, on the same host and credential) are taken
// for "cost not estimated" (learning.take resets costFrom for cost ≤ 1):
// tokens per request are never measured, and the key is paced in requests
// alone, overrunning the tokens limit.
func TestPacingOneTokenRequestsKeepTokenMeasure(t *testing.T) {
	t.Parallel()
	for _, every := range []int{0, 10} {
		p, ft := testPacer(genericPolicy())
		srv := &simBucket{rate: 10000, burst: 1000}
		refused, _ := simulateCosts(p, ft, srv, 6000, func(i int) int {
			if every > 0 && i%every == 0 {
				return 1 // a GET /v1/models, say
			}
			return 10 + (i*97)%291
		})
		lim, _ := p.limit(ft.Now())
		t.Logf("every %d: tokens %v/s burst %d, requests %v/s; %d refused", every, lim.TokenRate, lim.TokenBurst, lim.RequestRate, refused)
		if lim.TokenRate <= 0 {
			t.Errorf("no tokens pace learned: 1 request in 10 costing 1 token disabled the tokens-per-request measure")
		}
	}
}

// TestPacingDutyCycleOutage (attack 5, duty): a server that answers only
// 400 ms of every 2 s, with bare 429s the rest of the time. Every attempt
// refused for a second and more is no rate: the key holds its requests at
// the floor, probes at random moments, and lets them all go at the first
// probe accepted. The estimate halved to its 1/s floor and probed at
// exactly 1/s, in step with the server's 2 s cycle: every probe fell in the
// 1.6 s it refuses, and nothing was accepted in 40 s (296–321 of 400
// requests failed in the harness, openai-go's own retries 165).
func TestPacingDutyCycleOutage(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	r := uint64(1)
	p.seams.rand = func() float64 { // a generator of its own, so that the run repeats
		r = r*6364136223846793005 + 1442695040888963407
		return float64(r>>11) / (1 << 53)
	}
	t0 := ft.Now()
	duty := func(now time.Time) bool { return now.Sub(t0)%(2*time.Second) >= 1600*time.Millisecond }
	windows := map[int64]bool{} // the server's cycles in which it accepted an attempt
	accepted, refused := 0, 0
	for ft.Now().Sub(t0) < 40*time.Second {
		ok := zSendOne(p, ft, duty)
		if ok {
			accepted++
			windows[int64(ft.Now().Sub(t0)/(2*time.Second))] = true
		} else {
			refused++
		}
	}
	t.Logf("%d accepted in %d of 20 cycles, %d refused", accepted, len(windows), refused)
	if len(windows) < 4 {
		t.Errorf("attempts accepted in %d of the server's 20 cycles, want 4 at least (probes at random moments find one in five)", len(windows))
	}
	if accepted < 100 {
		t.Errorf("%d accepted in 40 s, want 100 at least (the requests held go when a probe is accepted)", accepted)
	}
}
