package llmretry

import (
	"net/http"
	"testing"
	"time"
)

// TestPacingOversizePromptHoldsNoSmallOnes: against a tokens limit that
// refuses with bare 429s (1,500 tokens a second, a burst of 3,000), nine
// requests of ten cost 100 tokens and every tenth 2,500, sent one after
// the other at 10 a second at most. The estimate paces tokens at the
// tokens accepted per request between 429s, with a burst of a few
// requests' worth: a 2,500-token prompt, many times that, is charged one
// request's worth, so the small request after it goes when its own cost
// fits, not after the big one's debt, and the requests go at their own
// pace (on main 4891a09, a small one waited 0.47 s behind a big one, and
// the 600 requests took 80.7 s where they are sent over 60 s). The
// server, not the pace, refuses the big prompts it has no room for.
func TestPacingOversizePromptHoldsNoSmallOnes(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	srv := &simBucket{rate: 1500, burst: 3000}
	cost := func(i int) int {
		if i%10 == 9 {
			return 2500
		}
		return 100
	}
	var worst time.Duration
	worstAt, refused, smallRefused, tokens := -1, 0, 0, 0
	start := ft.Now()
	const n = 600
	for i := 0; i < n; i++ {
		c := cost(i)
		before := ft.Now()
		if err := p.acquire(bg(), c, before); err != nil {
			t.Fatal(err)
		}
		now := ft.Now()
		if w := now.Sub(before); c == 100 && i >= 100 && w > worst {
			worst, worstAt = w, i
		}
		paid, costed := 1, p.pacesTokens()
		if costed {
			paid = c
		}
		tk := p.send(bg(), now, paid, costed)
		resp := ok200(nil)
		if srv.admitN(now, c) {
			tokens += c
		} else {
			resp = limited(nil)
			refused++
			if c == 100 {
				smallRefused++
			}
		}
		// An answer in 50 ms; the next request 100 ms after this one at
		// the earliest (an open loop's 10 a second).
		ft.Sleep(bg(), 50*time.Millisecond)
		at := ft.Now()
		p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
		if next := now.Add(100 * time.Millisecond); ft.Now().Before(next) {
			ft.Sleep(bg(), next.Sub(ft.Now()))
		}
	}
	if !p.pacesTokens() {
		t.Fatal("the key paces no tokens: the scenario did not start the tokens estimate")
	}
	// A small request fits the server's bucket 67 ms after it was empty,
	// and the request pace holds it a request's interval (about 100 ms):
	// 300 ms is three times that.
	if worst > 300*time.Millisecond {
		t.Errorf("a 100-token request (#%d) waited %v for the pace, want at most 300 ms: the big prompt before it held it", worstAt, worst)
	}
	// The requests go at their demand's pace: 60 s, and a few answers'
	// time.
	if got := ft.Now().Sub(start); got > 61*time.Second {
		t.Errorf("%d requests sent at 10/s took %v, want at most 61 s: the pace held them", n, got)
	}
	// What the pace lets go stays within the server's rate: the small
	// requests are refused rarely, and the accepted tokens near 1,500/s.
	if got := float64(tokens) / ft.Now().Sub(start).Seconds(); got > 1600 {
		t.Errorf("accepted %.0f tokens/s, want at most the server's 1,500/s and its burst", got)
	}
	if smallRefused > n/20 {
		t.Errorf("%d of the %d small requests refused, want at most 5%%", smallRefused, n*9/10)
	}
	t.Logf("worst small wait %v (#%d), %d refused (%d small), %.0f tokens/s over %v", worst, worstAt, refused, smallRefused, float64(tokens)/ft.Now().Sub(start).Seconds(), ft.Now().Sub(start))
}

// TestPacingOversizeChargeOnlyUnderEstimatedTokens: only the estimate's
// tokens pace charges an oversize request one request's worth; a request
// within its burst is charged its cost, and so is any request once a
// header announces the tokens limit (its burst is the server's).
func TestPacingOversizeChargeOnlyUnderEstimatedTokens(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	srv := &simBucket{rate: 1500, burst: 3000}
	simulateCosts(p, ft, srv, 300, func(i int) int {
		if i%10 == 9 {
			return 2500
		}
		return 100
	})
	now := ft.Now()
	lim, src := p.limit(now)
	if src != estimated || lim.TokenRate <= 0 {
		t.Fatalf("limit = %+v from %v, want an estimated tokens pace", lim, src)
	}
	if got, want := p.guessCost(lim.TokenBurst+1, lim, src, now), max(lim.TokenBurst/estimateTokenBurst, 1); got != want {
		t.Errorf("a request costing the burst and 1 is charged %d, want %d (one request's worth)", got, want)
	}
	if got := p.guessCost(lim.TokenBurst, lim, src, now); got != lim.TokenBurst {
		t.Errorf("a request costing the burst is charged %d, want its cost", got)
	}
	h := http.Header{"X-Ratelimit-Limit-Tokens": {"90000"}, "X-Ratelimit-Remaining-Tokens": {"80000"}, "X-Ratelimit-Reset-Tokens": {"6s"}}
	observeAt(p, ok200(h), now)
	if got := p.guessCost(lim.TokenBurst+1, lim, src, now); got != lim.TokenBurst+1 {
		t.Errorf("with a tokens limit in the headers, charged %d, want its cost %d", got, lim.TokenBurst+1)
	}
}
