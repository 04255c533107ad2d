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
	mem := &MemoryLimiter{now: ft.Now, sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ft.Sleep(ctx, d)
	}}
	p := newPacer(Generic(), "k", mem, ft.Now, mem.sleep)
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
	p, ft := testPacer(Generic())
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
		tk := p.send(bg(), now, 1)
		resp := serve(now)
		ans := now.Add(20 * time.Millisecond)
		v := Generic().classify(resp, nil, ans)
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

// TestPacingStalePeakForgotten: the floor of an estimate (half the most
// accepted) does not outlive it: an hour after 200/s were accepted, a
// server that allows 10/s is paced near 10/s.
func TestPacingStalePeakForgotten(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(Generic())
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
	e := &p.lrn.Load().est
	t.Logf("phase 1: peak %v", e.peak)
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
	t.Logf("after 20 s at 10/s: estimate %v/s (peak %v)", got.RequestRate, e.peak)
	if got.RequestRate > 20 {
		t.Errorf("estimate %v/s against a server allowing 10/s: the peak of an hour ago floors it", got.RequestRate)
	}
}
