package llmretry

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// Announcements are claims, successes are facts: tests of what a key learns
// from servers whose headers only approximate what they enforce, and from
// fleets of processes that share a key without talking (issue 20; issue 21,
// item 10). Every test runs on the fake clock.

// simClient is one process of a simulated fleet: its own pacer and clock,
// sending one request at a time (each answered 1 ms after it is sent).
type simClient struct {
	p       *pacer
	ft      *fakeTime
	pending bool      // acquired, waiting for its send time to come up
	sendAt  time.Time // when it sends
	stopAt  time.Time // it leaves at this time (zero: never)
	quota   int       // it leaves once this many were accepted (0: never)
	demand  time.Duration
	sent    []time.Time
	ok      []time.Time
	refused int
	seed    uint64 // latency's state
}

// fleetRun runs clients against srv until end: the earliest pending send
// goes first, so that the server sees the fleet's sends in time order.
// refusal makes a refusal's response at its time.
func fleetRun(cs []*simClient, srv *simBucket, end time.Time, refusal func(now time.Time) *http.Response) {
	fleetRunHeaders(cs, srv, end, refusal, nil)
}

// fleetRunHeaders is fleetRun with okHeaders (if not nil) making a
// success's headers at its time.
func fleetRunHeaders(cs []*simClient, srv *simBucket, end time.Time, refusal func(now time.Time) *http.Response, okHeaders func(now time.Time) http.Header) {
	for {
		var next *simClient
		for _, c := range cs {
			if !c.stopAt.IsZero() && !c.ft.Now().Before(c.stopAt) || c.quota > 0 && len(c.ok) >= c.quota {
				continue
			}
			if !c.pending {
				if err := c.p.acquire(bg(), 1, c.ft.Now()); err != nil {
					panic(err)
				}
				c.pending, c.sendAt = true, c.ft.Now()
			}
			if next == nil || c.sendAt.Before(next.sendAt) {
				next = c
			}
		}
		if next == nil || !next.sendAt.Before(end) {
			return
		}
		c, now := next, next.sendAt
		c.pending = false
		tk := c.p.send(bg(), now, 1, false)
		c.sent = append(c.sent, now)
		resp := ok200(nil)
		if srv.admit(now) {
			if okHeaders != nil {
				resp = ok200(okHeaders(now))
			}
			c.ok = append(c.ok, now)
		} else {
			resp = refusal(now)
			c.refused++
		}
		c.ft.Sleep(bg(), c.latency())
		at := c.ft.Now()
		c.p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
		if c.demand > 0 {
			if d := now.Add(c.demand).Sub(c.ft.Now()); d > 0 {
				c.ft.Sleep(bg(), d)
			}
		}
	}
}

// newSimClient is a zero-config process whose clock starts at start.
func newSimClient(start time.Time, phase float64) *simClient {
	p, ft := testPacer(genericPolicy())
	ft.now = start
	p.lastUsed.Store(start.UnixNano())
	p.phase = phase
	// Its random draws (an outage's probes, estimate.outage) from a
	// generator of its own, so that a run repeats.
	r := uint64(phase*1e9) + 1
	p.seams.rand = func() float64 {
		r = r*6364136223846793005 + 1442695040888963407
		return float64(r>>11) / (1 << 53)
	}
	return &simClient{p: p, ft: ft, seed: uint64(phase * 1e9)}
}

// latency is how long the server takes to answer the client's next attempt:
// 1 to 3 ms, varied deterministically from one attempt to the next (a real
// network's jitter), so that processes paced at round rates do not lock
// their sends to the server bucket's refills, the same ones refused for ever.
func (c *simClient) latency() time.Duration {
	c.seed = c.seed*6364136223846793005 + 1442695040888963407
	return time.Millisecond + time.Duration(c.seed>>33%2000)*time.Microsecond
}

func countIn(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// inexactRefusal is the 429 of issue 20's gateway over a 100/s bucket:
// Retry-After in whole seconds, X-RateLimit-Limit: 100, Remaining: 0, a
// reset at the next whole Unix second, whatever the bucket holds.
func inexactRefusal(now time.Time) *http.Response {
	return limited(http.Header{"Retry-After": {"1"}, "X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset": {strconv.FormatInt(now.Truncate(time.Second).Unix()+1, 10)}})
}

// TestPacingHostileWindowLapses (issue 21, item 10): one 200 announcing a
// window of 1 with nothing left, and no rate-limit header on any answer
// after it, held the key at 1 request/s for minutes (the window model
// carried the guessed 1 s window of 1 forward for ever). Successes without
// the claim outvote it: a caller asking for 20/s gets them within seconds.
func TestPacingHostileWindowLapses(t *testing.T) {
	t.Parallel()
	c := newSimClient(testNow.Add(200*time.Millisecond), 0)
	now := c.ft.Now()
	observeAt(c.p, ok200(http.Header{"X-Ratelimit-Limit": {"1"}, "X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset": {strconv.FormatInt(now.Add(1500*time.Millisecond).Unix(), 10)}}), now)
	c.demand = 50 * time.Millisecond // 20/s
	srv := &simBucket{rate: 1000, burst: 1000}
	end := now.Add(30 * time.Second)
	fleetRun([]*simClient{c}, srv, end, inexactRefusal)
	if n := countIn(c.sent, now.Add(5*time.Second), end); n < 25*15 {
		t.Errorf("%d sent in the 25 s after the first 5, want ≥ %d (15/s of the 20/s asked): the hostile window never lapsed", n, 25*15)
	}
}

// TestPacingWholeSecondClaimOutvoted (issue 20, item 1): a 100/s bucket of
// 10 behind a gateway whose 429s claim a window of 100 that resets at the
// next whole second. The claim "explained" each 429: the key paused until
// the whole second, then sent the window's 100 at once into a bucket of 10
// (9.4× the optimum in the bench). What the server accepts wins: the key
// settles near 100/s with few 429s, and no herd at the whole seconds.
func TestPacingWholeSecondClaimOutvoted(t *testing.T) {
	t.Parallel()
	c := newSimClient(testNow.Add(300*time.Millisecond), 0)
	start := c.ft.Now()
	srv := &simBucket{rate: 100, burst: 10}
	end := start.Add(10 * time.Second)
	fleetRun([]*simClient{c}, srv, end, inexactRefusal)
	if n := countIn(c.ok, start.Add(2*time.Second), end); n < 8*85 {
		t.Errorf("%d accepted in seconds 2–10, want ≥ %d (85/s of the server's 100/s)", n, 8*85)
	}
	if c.refused > len(c.sent)/10 {
		t.Errorf("%d 429s of %d sent, want ≤ 10%%", c.refused, len(c.sent))
	}
	if p := peakIn(c.sent, 20*time.Millisecond, start.Add(time.Second)); p > 2*(10+1) {
		t.Errorf("%d sent in one 20 ms after the first second, want ≤ 2 × (burst + 1)", p)
	}
}

// peakIn is the most of ts in any window of width w beginning at from or later.
func peakIn(ts []time.Time, w time.Duration, from time.Time) int {
	best := 0
	for i, t := range ts {
		if t.Before(from) {
			continue
		}
		best = max(best, countIn(ts[i:], t, t.Add(w)))
	}
	return best
}

// TestPacingGrowsBackWhenCompetitorsLeave (issue 20, item 2): processes
// share a key on a 100/s bucket with bare 429s; after 10 s all but one
// leave. The one left grew 5% a second under a ceiling held 10 s, and
// stayed near its old share for tens of seconds with the server idle; then
// its probe, relative to its rate, took 2 s and more from a small share
// (one of eight: 12/s). It must take 90% of the freed capacity within 2 s.
func TestPacingGrowsBackWhenCompetitorsLeave(t *testing.T) {
	t.Parallel()
	for _, n := range []int{4, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			start := testNow.Add(100 * time.Millisecond)
			var cs []*simClient
			for i := 0; i < n; i++ {
				cs = append(cs, newSimClient(start, float64(i)/float64(n)))
			}
			leave := start.Add(10 * time.Second)
			for _, c := range cs[1:] {
				c.stopAt = leave
			}
			srv := &simBucket{rate: 100, burst: 10}
			end := leave.Add(4 * time.Second)
			fleetRun(cs, srv, end, func(time.Time) *http.Response { return limited(nil) })
			total := 0
			for _, c := range cs {
				total += countIn(c.ok, start.Add(5*time.Second), leave)
			}
			if total < 5*85 {
				t.Errorf("the fleet had %d accepted in seconds 5–10, want ≥ %d: 85%% of the server's rate", total, 5*85)
			}
			share := float64(countIn(cs[0].ok, leave.Add(-2*time.Second), leave)) / 2
			freed := 97 - share // the most a lone process takes is the server's rate less headroom
			got := float64(countIn(cs[0].ok, leave.Add(time.Second), leave.Add(2*time.Second)))
			if got < share+0.9*freed {
				t.Errorf("alone, second 1–2: %.0f accepted/s, want ≥ %.1f (its share %.1f/s + 90%% of the %.1f/s freed)", got, share+0.9*freed, share, freed)
			}
		})
	}
}

// TestPacingPauseDesynchronizes (issue 20): processes that cannot talk, each
// paced at 50/s, get the same 429 at the same moment, with a reset at the
// next whole second. Each must release its waiters at its own offset within
// the pace interval, not all at the whole second (a herd across the fleet).
func TestPacingPauseDesynchronizes(t *testing.T) {
	t.Parallel()
	pol := genericPolicy()
	pol.Limits = Limits{RequestsPerMinute: 3000, RequestBurst: 1}
	at := testNow.Add(400 * time.Millisecond)
	var firsts []time.Time
	for _, phase := range []float64{0.1, 0.9} {
		p, ft := testPacer(pol)
		ft.now = at
		p.phase = phase
		resp := limited(http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Reset": {strconv.FormatInt(testNow.Unix()+1, 10)}})
		p.observe(bg(), resp, pol.classify(resp, nil, at), p.send(bg(), at, 1, false), at)
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, ft.Now())
	}
	interval := time.Second / 50
	if d := firsts[1].Sub(firsts[0]); math.Abs(float64(d)) < 0.5*float64(interval) {
		t.Errorf("first releases after the reset %v apart, want ≥ half the %v pace interval: each process offsets itself", d, interval)
	}
}

// TestPacingCoarseHintShortenedUnderEstimate: a request refused with a
// Retry-After in whole seconds, on a key paced by a measured estimate, waits a
// second less than the hint and then its turn at the pace, as the requests
// the hint paused do (a gateway rounding 10 ms up to "1" held every refused
// request, the run's tail among them, a whole second). Without an estimate
// (a configured pace, no pace) the hint is waited whole.
func TestPacingCoarseHintShortenedUnderEstimate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pol  *Policy
		hint string
		want time.Duration
	}{
		{"estimate, whole seconds", genericPolicy(), "2", time.Second},
		{"estimate, a fraction", genericPolicy(), "1.5", 1500 * time.Millisecond},
		{"configured pace", &Policy{Limits: Limits{RequestsPerMinute: 6000}}, "2", 2 * time.Second},
		{"no learning", &Policy{Limits: Limits{DisableLearning: true}}, "2", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := testPacer(tt.pol)
			resp := limited(http.Header{"Retry-After": {tt.hint}})
			v := genericPolicy().classify(resp, nil, testNow)
			// A first 429 is a guess: its hint is waited whole.
			p.observe(bg(), resp, v, p.send(bg(), testNow, 1, false), testNow)
			if got := p.hintWait(resp, v, v.RetryAfter, testNow); got != v.RetryAfter {
				t.Errorf("after one 429: retry waits %v, want the whole %v", got, v.RetryAfter)
			}
			// Answers, then a second 429 a second later: a measured estimate.
			at := testNow
			for i := 0; i < 20; i++ {
				at = at.Add(50 * time.Millisecond)
				observeAt(p, ok200(nil), at)
			}
			p.observe(bg(), resp, v, p.send(bg(), at, 1, false), at)
			if got := p.hintWait(resp, v, v.RetryAfter, at); got != tt.want {
				t.Errorf("retry waits %v after Retry-After: %s, want %v", got, tt.hint, tt.want)
			}
		})
	}
}

// TestPacingSharedBucketOutvoted (issue 20, item 2): processes on one key
// read OpenAI's headers, which describe the whole 100/s bucket; each paced
// itself at it, together several times over, and their 429s were
// "explained" by the headers, so nothing slowed them (in the bench, 4
// processes: 1,230 429s and 32 failed). A key that the server accepted 20
// a second from over the last second, refused by a bucket claiming 100/s,
// shares it: the 429 goes to the estimate, which paces at the key's share.
func TestPacingSharedBucketOutvoted(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	hdr := func(remaining int) http.Header {
		return http.Header{"X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Remaining-Requests": {strconv.Itoa(remaining)},
			"X-Ratelimit-Reset-Requests": {"100ms"}} // 10 used, full again in 0.1 s: 100/s
	}
	now := ft.Now()
	for i := 0; i < 40; i++ { // 2 s at 20 accepted a second
		now = now.Add(50 * time.Millisecond)
		observeAt(p, ok200(hdr(0)), now)
	}
	if lim, src := p.limit(now); src != learned || lim.RequestRate < 90 {
		t.Fatalf("before the 429: %v/s from %v, want the headers' 100/s", lim.RequestRate, src)
	}

	observeAt(p, limited(hdr(0)), now.Add(time.Millisecond))

	lim, src := p.limit(now.Add(2 * time.Millisecond))
	if src != estimated || lim.RequestRate > 30 {
		t.Errorf("after the 429: %v/s from %v, want the estimate at about the 20/s accepted", lim.RequestRate, src)
	}
	// Later answers with the claim do not switch the estimate off.
	observeAt(p, ok200(hdr(3)), now.Add(60*time.Millisecond))
	if _, src := p.limit(now.Add(61 * time.Millisecond)); src != estimated {
		t.Errorf("after another 200 with the headers: paced from %v, want the estimate", src)
	}
}

// TestPacingFirstWindowClaimOutvoted: the first 429s of a run, from a
// gateway claiming a one-second window of 100 spent when the server had
// accepted 17, paused the key until the whole second (up to a second lost,
// then a herd at it). A claim that the last second's successes contradict
// is outvoted at first sight: no pause beyond the pace, the estimate paces.
func TestPacingFirstWindowClaimOutvoted(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	start := testNow.Add(10 * time.Millisecond)
	for i := 0; i < 17; i++ {
		observeAt(p, ok200(nil), start.Add(time.Duration(i)*time.Millisecond))
	}
	at := start.Add(20 * time.Millisecond)
	observeAt(p, inexactRefusal(at), at)
	if d := time.Duration(p.pausedUntil.Load() - at.UnixNano()); d > 100*time.Millisecond {
		t.Errorf("paused %v after the first 429, want no pause to the claimed window's end", d)
	}
	if _, src := p.limit(at); src != estimated {
		t.Errorf("paced from %v, want the estimate", src)
	}
}

// TestPacingSharedBucketOutvotedEarly (issue 20, bench fleet openai ×8: 18–23
// of 600 failed): eight processes read OpenAI's headers describing the whole
// 100/s bucket and each paced itself at 97/s. The claim could be outvoted
// only a second after the first reading, and by then a request's eleven
// attempts had all been refused (one every ~80 ms: eight workers in line at
// the claimed pace). A key that accepted at a twelfth of the claim over the
// 300 ms since its first reading shares the bucket already; one accepting at
// the claim (a lone process) does not.
func TestPacingSharedBucketOutvotedEarly(t *testing.T) {
	t.Parallel()
	hdr := func(remaining int) http.Header {
		return http.Header{"X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Remaining-Requests": {strconv.Itoa(remaining)},
			"X-Ratelimit-Reset-Requests": {"100ms"}} // 10 used, full again in 0.1 s: 100/s
	}
	tests := []struct {
		name     string
		every    time.Duration // one success this often
		outvoted bool
	}{
		{"one of eight: 12/s accepted", 80 * time.Millisecond, true},
		{"alone: 100/s accepted", 10 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ft := testPacer(genericPolicy())
			now := ft.Now()
			for end := now.Add(400 * time.Millisecond); now.Before(end); {
				now = now.Add(tt.every)
				observeAt(p, ok200(hdr(0)), now)
			}
			observeAt(p, limited(hdr(0)), now.Add(time.Millisecond))
			_, src := p.limit(now.Add(2 * time.Millisecond))
			if got := src == estimated; got != tt.outvoted {
				t.Errorf("after a 429 400 ms in: paced from %v, want the claim outvoted: %v", src, tt.outvoted)
			}
		})
	}
}

// TestPacingFleetSharesEvenOut (issue 20, item 2; bench fleet ×4 and ×8 at
// 1.05–1.6× the optimum): processes sharing a key start milliseconds apart
// and none can see the others. The first to slow-start took most of the
// server and kept it: growth relative to the rate, cuts to the rate each
// was delivered and a floor at half the most a process was ever accepted
// kept the shares in the ratio they started with (one of four at 60/s for
// 12 s, another at 0–3/s), and the fleet's wall waited for the smallest.
// With the same additive increase for each and a multiplicative decrease
// (AIMD), every process gets a third of its fair share at least over
// seconds 6–12, whatever the starting offsets, and the server stays full.
func TestPacingFleetSharesEvenOut(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 4, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			fair := 100.0 / float64(n)
			for seed := 0; seed < 40; seed++ {
				start := testNow.Add(100 * time.Millisecond)
				var cs []*simClient
				for i := 0; i < n; i++ {
					c := newSimClient(start.Add(time.Duration(i*(seed+3))*time.Millisecond), float64(i)/float64(n))
					c.seed = uint64(seed*1000 + i)
					cs = append(cs, c)
				}
				srv := &simBucket{rate: 100, burst: 10}
				fleetRun(cs, srv, start.Add(12*time.Second), func(time.Time) *http.Response { return limited(nil) })
				from, to := start.Add(6*time.Second), start.Add(12*time.Second)
				total := 0
				for i, c := range cs {
					k := countIn(c.ok, from, to)
					total += k
					if got := float64(k) / 6; got < fair/3 {
						t.Errorf("offsets %d ms: process %d accepted %.1f/s over seconds 6–12, want ≥ %.1f (a third of its fair share)", seed+3, i, got, fair/3)
					}
				}
				if got := float64(total) / 6; got < 95 {
					t.Errorf("offsets %d ms: the fleet accepted %.1f/s, want ≥ 95 (the server's 100/s)", seed+3, got)
				}
			}
		})
	}
}

// fleetRefusals are the 429s the fleet simulations answer with: bare, and
// with a whole-second Retry-After (a bucket's 10 ms rounded up), the styles
// whose fleets of four measured 1.17–1.19× (bench fleet retry-after,
// inexact, window-over-bucket).
var fleetRefusals = []struct {
	name    string
	refusal func(time.Time) *http.Response
}{
	{"bare", func(time.Time) *http.Response { return limited(nil) }},
	{"retry-after", func(time.Time) *http.Response { return limited(http.Header{"Retry-After": {"1"}}) }},
}

// newSimFleet is n zero-config processes starting a few ms apart (offsets
// set by seed, as in TestPacingFleetSharesEvenOut).
func newSimFleet(n, seed int, start time.Time) []*simClient {
	var cs []*simClient
	for i := 0; i < n; i++ {
		c := newSimClient(start.Add(time.Duration(i*(seed+3))*time.Millisecond), float64(i)/float64(n))
		c.seed = uint64(seed*1000 + i)
		cs = append(cs, c)
	}
	return cs
}

// TestPacingFleetStarvedProcessClimbs (bench fleet ×4 with whole-second
// hints, 1.17–1.19×): a process of a fleet whose attempts were all refused
// (the first wave, or a run of cuts while its peers' paces kept the bucket
// empty) sits at the estimate's floor, 1/s, and its one attempt a second
// finds the bucket empty again: it accepted nothing, so nothing grew it
// (contended needed an accepted answer in the last second), and it stayed
// there while another took the server (in this simulation, 25 of the 480
// processes below under a quarter of their share over seconds 2–6, 11 of
// them at 0/s). At the floor a 429 grows the estimate by the additive
// increase: every process takes a quarter of its fair share at least from
// second 2 (5/s of 12.5 at worst).
func TestPacingFleetStarvedProcessClimbs(t *testing.T) {
	t.Parallel()
	for _, rf := range fleetRefusals {
		for _, n := range []int{4, 8} {
			t.Run(fmt.Sprintf("%s/%d", rf.name, n), func(t *testing.T) {
				t.Parallel()
				fair := 100.0 / float64(n)
				for seed := 0; seed < 40; seed++ {
					start := testNow.Add(100 * time.Millisecond)
					cs := newSimFleet(n, seed, start)
					fleetRun(cs, &simBucket{rate: 100, burst: 10}, start.Add(6*time.Second), rf.refusal)
					for i, c := range cs {
						if got := float64(countIn(c.ok, start.Add(2*time.Second), start.Add(6*time.Second))) / 4; got < fair/4 {
							t.Errorf("offsets %d ms: process %d accepted %.1f/s over seconds 2–6, want ≥ %.1f (a quarter of its fair share); per 250 ms: %v",
								seed+3, i, got, fair/4, per250(c.ok, start, 24))
						}
					}
				}
			})
		}
	}
}

// TestPacingFleetFinishesTogether (bench fleet ×4, 1.17–1.19× in the styles
// with whole-second hints): four processes share a 100/s bucket, 150
// requests each, and the fleet's wall is the last one's end. Whenever one
// finishes, the others must take its share: at a probe rising by 60
// requests/s more each second, the ones left took 1–1.5 s to fill the
// server, and the last, alone, most of all (in this simulation, with
// whole-second hints, 1.17× the optimum of 6 s at worst and 1.09× on
// average over the offsets below; now 1.08× and 1.04×). Within 1.15×
// whatever the offsets.
func TestPacingFleetFinishesTogether(t *testing.T) {
	t.Parallel()
	for _, rf := range fleetRefusals {
		t.Run(rf.name, func(t *testing.T) {
			t.Parallel()
			const optimum = 6 * time.Second // 600 requests at 100/s
			for seed := 0; seed < 40; seed++ {
				start := testNow.Add(100 * time.Millisecond)
				cs := newSimFleet(4, seed, start)
				for _, c := range cs {
					c.quota = 150
				}
				fleetRun(cs, &simBucket{rate: 100, burst: 10}, start.Add(4*optimum), rf.refusal)
				var wall time.Duration
				for i, c := range cs {
					if len(c.ok) < c.quota {
						t.Fatalf("offsets %d ms: process %d accepted %d of %d by %v", seed+3, i, len(c.ok), c.quota, 4*optimum)
					}
					wall = max(wall, c.ok[len(c.ok)-1].Sub(start))
				}
				if r := wall.Seconds() / optimum.Seconds(); r > 1.15 {
					var per [][]int
					for _, c := range cs {
						per = append(per, per250(c.ok, start, int(wall/(250*time.Millisecond))+1))
					}
					t.Errorf("offsets %d ms: the last process ended at %v, %.2f× the optimum, want ≤ 1.15×; accepted per 250 ms: %v", seed+3, wall.Round(time.Millisecond), r, per)
				}
			}
		})
	}
}

// TestPacingMidWindowClaimOutvoted (issue 20, item 3; bench
// window-over-bucket ×1: 65–74 attempts in one 20 ms, against 22): a
// gateway announces a one-second window of 100 over a bucket of 10. A run's
// first wave of 74 gets 11 successes, whose headers show the window in the
// middle, then 63 429s claiming it spent. The claim was outvoted only for a
// window first seen on a 429: seen on the successes, it was trusted, the
// key paused to the whole second, and every worker went at it together.
// Eleven accepted of a claimed 100 outvote it: no pause to the window's
// end, the estimate paces, and the requests released after the hint go
// one by one.
func TestPacingMidWindowClaimOutvoted(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	t0 := testNow.Truncate(time.Second).Add(time.Second)
	window := func(remaining int, at time.Time) http.Header {
		return http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {strconv.Itoa(remaining)},
			"X-Ratelimit-Reset": {strconv.FormatInt(at.Truncate(time.Second).Unix()+1, 10)}}
	}
	var tks []ticket
	for i := 0; i < 74; i++ {
		tks = append(tks, p.send(bg(), t0, 1, false))
	}
	at := t0
	for i, tk := range tks {
		at = t0.Add(2*time.Millisecond + time.Duration(i)*50*time.Microsecond)
		resp := ok200(window(99-i, at))
		if i >= 11 {
			h := window(0, at)
			h.Set("Retry-After", "1")
			resp = limited(h)
		}
		p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
	}
	if d := time.Duration(p.pausedUntil.Load() - at.UnixNano()); d > 100*time.Millisecond {
		t.Errorf("paused %v after the first wave, want no pause to the claimed window's end", d)
	}
	if _, src := p.limit(at); src != estimated {
		t.Errorf("paced from %v, want the estimate", src)
	}
	// The refused requests come back after their hint, together.
	ft.now = t0.Add(time.Second)
	var sent []time.Time
	for range 63 {
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ft.Now())
	}
	if n := peakIn(sent, 20*time.Millisecond, t0); n > 2*(10+1) {
		t.Errorf("%d released in one 20 ms after the hint, want ≤ 2 × (burst + 1)", n)
	}
}

// TestPacingStarvedProcessGrowsBack (issue 20, bench fleet retry-after ×8:
// five of eight processes left at 1–7/s while the server idled from second
// 2.4 to 4): a process starved by its peers' paces holds an estimate at the
// floor, past its slow start. When the peers leave, its probe grew by 2/s
// at most per answer (e² a second) from there: 2.3 s from 1/s to the
// server's 100/s. The probe's step per answer may now be a slow start's
// (doubling every slowDoubling), so a process at 1/s is at the server's rate
// within a second of its first answer.
func TestPacingStarvedProcessGrowsBack(t *testing.T) {
	t.Parallel()
	start := testNow.Add(100 * time.Millisecond)
	c := newSimClient(start, 0)
	l := c.p.learning()
	last := start.Add(-time.Second) // the last 429 a second ago, from the peers that have left
	l.est = estimate{base: adaptiveFloor, cutAt: last, measured: true, lastRefusal: last}
	c.p.waitedAt.Store(start.UnixNano()) // its requests queued behind the pace
	srv := &simBucket{rate: 100, burst: 10}
	fleetRun([]*simClient{c}, srv, start.Add(2*time.Second), func(time.Time) *http.Response { return limited(nil) })
	if got := countIn(c.ok, start.Add(time.Second), start.Add(2*time.Second)); got < 85 {
		t.Errorf("second 1–2 after the peers left: %d accepted, want ≥ 85 (90%% of the 97/s a lone process takes); per 250 ms: %v", got, per250(c.ok, start, 8))
	}
}

// per250 counts ts in n intervals of 250 ms from start.
func per250(ts []time.Time, start time.Time, n int) []int {
	var out []int
	for k := range n {
		from := start.Add(time.Duration(k) * 250 * time.Millisecond)
		out = append(out, countIn(ts, from, from.Add(250*time.Millisecond)))
	}
	return out
}

// TestPacingQueuedWaiterHoldsKey (issue 20, bench fleet retry-after ×8):
// after a pause, a key's first request goes at once on the pace's token
// while the others queue behind the pace. A key counted as held by its pace
// only once a wait had ended, so at 1/s the answer to that first request
// was taken as demand-bound: the estimate grew 5% a second instead of
// probing, and the next request waited a whole second. A request waiting
// its turn in steps holds the key from its first step.
func TestPacingQueuedWaiterHoldsKey(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	now := ft.Now()
	last := now.Add(-time.Second) // the last 429 a second ago
	p.learning().est = estimate{base: adaptiveFloor, cutAt: last, measured: true, lastRefusal: last}
	if err := p.acquire(bg(), 1, now); err != nil { // the first goes at once
		t.Fatal(err)
	}
	tk := p.send(bg(), now, 1, false)
	// The next queues for its turn, a second away; it gives up the wait
	// 150 ms in (its deadline) and goes, having been held by the pace.
	if err := p.acquire(deadlineCtx{bg(), now.Add(150 * time.Millisecond)}, 1, now); err != nil { // on the fake clock
		t.Fatal(err)
	}
	at := ft.Now()
	p.observe(bg(), ok200(nil), genericPolicy().classify(ok200(nil), nil, at), tk, at)
	if lim, _ := p.limit(at); lim.RequestRate < 2*adaptiveFloor {
		t.Errorf("after the first answer, with a request queued: %v/s, want the probe's growth (≥ %v/s), not 5%%", lim.RequestRate, 2*adaptiveFloor)
	}
}

// TestPacingCoarseHintProbed (issue 20, bench fleet retry-after ×1 1.19×,
// ×8 1.27×): a first wave's 429s carry Retry-After: 1, a bucket's 10 ms
// rounded up. Under a first guess of the estimate each refused request
// waited the whole second, and when every worker of a key had been refused
// (the successes' next requests too, sent before the first 429 set a pace)
// nothing was sent from 0.05 s to 1 s. The first 429 keeps its whole hint
// (the provider's documented wait); the next, while that hint runs, probes
// it: a second less, then its turn at the pace. One probe per hint: a
// window that reopens at the whole second refuses one early request, not
// all of them.
func TestPacingCoarseHintProbed(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	resp := limited(http.Header{"Retry-After": {"1"}})
	v := genericPolicy().classify(resp, nil, testNow)
	var waits []time.Duration
	for i := range 3 {
		at := testNow.Add(time.Duration(i) * time.Millisecond)
		p.observe(bg(), resp, v, p.send(bg(), at, 1, false), at)
		waits = append(waits, p.hintWait(resp, v, v.RetryAfter, at))
	}
	if want := []time.Duration{time.Second, 0, time.Second}; !slices.Equal(waits, want) {
		t.Errorf("three requests refused with Retry-After: 1 in a first wave wait %v, want %v (the first whole, one probe, the rest whole)", waits, want)
	}
}

// TestPacingBare429BackoffDoesNotDouble: a request refused again and again
// by bare 429s (no wait named), on a key paced by an estimate measured
// between 429s while the server takes most of the key's answers, waits the
// backoff's first step before each retry, not a step doubling with each
// 429: the pace spaces the key's attempts, and the doubling only left the
// unlucky requests asleep at the end (bench fleet bare ×8: 5.5 s at the
// server's rate, then 3 s on the few requests in their third or fourth
// backoff; 1.30×–1.48×). When the 429s come among 429s (a blip: retries at
// once used up a request's attempts inside a 400 ms blip, attack 5) it
// doubles once, as an SDK's second retry, and no further (the pace bounds
// the key's load); under a configured pace and for a server error it
// doubles as before.
func TestPacingBare429BackoffDoesNotDouble(t *testing.T) {
	t.Parallel()
	bare := llmretrytest.Step{Status: 429, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"error":{"message":"Rate limit reached.","type":"requests","code":"rate_limit_exceeded"}}`)}
	first, second, third := (&Policy{}).backoff(1, 0.5), (&Policy{}).backoff(2, 0.5), (&Policy{}).backoff(3, 0.5)
	tests := []struct {
		name     string
		pol      *Policy
		measured bool // a measured estimate paces the key when the request is refused
		others   bool // the server takes the key's other requests meanwhile
		refusal  llmretrytest.Step
		want     time.Duration // the wait before the second retry
		want3    time.Duration // and the third
	}{
		{"measured estimate, bare 429s among answers", nil, true, true, bare, first, first},
		{"measured estimate, bare 429s among 429s", nil, true, false, bare, second, second},
		{"measured estimate, 500s", nil, true, true, llmretrytest.Step{Status: 500}, second, third},
		{"configured pace", &Policy{Limits: Limits{RequestsPerMinute: 60_000}}, false, true, bare, second, third},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, tt.pol)
			tick := func(d time.Duration) {
				ft.mu.Lock()
				ft.now = ft.now.Add(d)
				ft.mu.Unlock()
			}
			once := func() {
				req, _ := http.NewRequestWithContext(sendOnce(bg()), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
				req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234") // post's: the same key
				do(t, tr, req)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
			p := pacerOf(tr, tr.policyFor(req, requestOptions{}), req)
			if tt.measured {
				// A 429, 20 answers 50 ms apart, and a second 429: the rate
				// between them is measured.
				srv.Enqueue(bare)
				once()
				for i := 0; i < 20; i++ {
					tick(50 * time.Millisecond)
					once()
				}
				tick(50 * time.Millisecond)
				srv.Enqueue(bare)
				once()
				if _, src := p.limit(ft.Now()); src != estimated || !p.estimateMeasured(ft.Now()) {
					t.Fatalf("the key is paced from %v (measured %v), want a measured estimate", src, p.estimateMeasured(ft.Now()))
				}
				tick(time.Second) // the answers above are out of the recent ones
			}
			var at attempts
			tr.Observer = onAttempt(func(a AttemptInfo) {
				at.hook(a)
				if tt.others && a.Decision == DecisionRetry {
					// Other workers' requests, answered while this one waits.
					for i := 0; i < 8; i++ {
						observeAt(p, ok200(nil), ft.Now())
					}
				}
			})
			srv.Enqueue(tt.refusal, tt.refusal, tt.refusal)
			r, _ := http.NewRequestWithContext(WithMaxRetries(bg(), 3), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			r.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
			if _, _, err := do(t, tr, r); err != nil {
				t.Fatal(err)
			}
			if len(at.all) != 4 || at.all[2].Decision != DecisionRetry {
				t.Fatalf("%d attempts, want three retries and a success", len(at.all))
			}
			if got := at.all[0].Wait; got != first {
				t.Errorf("the first retry waits %v, want the backoff's first step, %v", got, first)
			}
			if got := at.all[1].Wait; got != tt.want {
				t.Errorf("the second retry waits %v, want %v", got, tt.want)
			}
			if got := at.all[2].Wait; got != tt.want3 {
				t.Errorf("the third retry waits %v, want %v", got, tt.want3)
			}
		})
	}
}
