package llmretry

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
	"golang.org/x/time/rate"
)

// testPacer is a pacer on its own MemoryLimiter with injected time.
func testPacer(pol *Policy) (*pacer, *fakeTime) {
	ft := &fakeTime{now: testNow}
	clk := &seams{now: ft.Now, sleep: ft.Sleep}
	return newPacer(pol, "k", &MemoryLimiter{seams: clk}, clk), ft
}

func ok200(h http.Header) *http.Response { return &http.Response{StatusCode: 200, Header: h} }

// observeAt classifies resp with the generic policy and lets p learn from it.
func observeAt(p *pacer, resp *http.Response, now time.Time) Verdict {
	v := genericPolicy().classify(resp, nil, now)
	p.observe(bg(), resp, v, p.send(bg(), now, 1, false), now)
	return v
}

func limited(h http.Header) *http.Response {
	s := llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached."})
	for k, v := range h {
		s.Header[k] = v
	}
	return response(429, s.Header, string(s.Body))
}

func TestPacingLearnsFromHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		h         http.Header
		reqs      rate.Limit // before headroom; 0: not paced
		burst     int        // after headroom
		tokens    rate.Limit
		tokBurst  int
		pacesToks bool
	}{
		{"OpenAI bucket: the used share refills in reset (less its resolution)", http.Header{
			"X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Remaining-Requests": {"9"}, "X-Ratelimit-Reset-Requests": {"100ms"},
			"X-Ratelimit-Limit-Tokens": {"10000"}, "X-Ratelimit-Remaining-Tokens": {"9000"}, "X-Ratelimit-Reset-Tokens": {"2.5s"}},
			1 / 0.099, 9, 1000 / 2.4, 9000, true}, // resets may be rounded up by their last digit: 1 ms, 0.1 s
		{"window (Unix reset): no rate, the pause at nothing left does it", http.Header{
			"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"30"}, "X-Ratelimit-Reset": {itoa(testNow.Unix() + 15)}},
			0, 0, 0, 0, false},
		{"Cerebras: limit per named period, what remains may go at once", http.Header{
			"X-Ratelimit-Limit-Requests-Day": {"14400"}, "X-Ratelimit-Remaining-Requests-Day": {"14000"}, "X-Ratelimit-Reset-Requests-Day": {"33011.5"},
			"X-Ratelimit-Limit-Tokens-Minute": {"60000"}, "X-Ratelimit-Remaining-Tokens-Minute": {"59000"}, "X-Ratelimit-Reset-Tokens-Minute": {"11.25"}},
			14400.0 / 86400, 12600, 1000, 53100, true},
		{"Anthropic: a bucket whose reset is a time, up to a second late", http.Header{
			"Anthropic-Ratelimit-Requests-Limit": {"50"}, "Anthropic-Ratelimit-Requests-Remaining": {"40"},
			"Anthropic-Ratelimit-Requests-Reset": {testNow.Add(20 * time.Second).Format(time.RFC3339)}},
			10 / 19.0, 45, 0, 0, false},
		{"Anthropic: a refill within a second, in whole seconds, says nothing", http.Header{
			"Anthropic-Ratelimit-Requests-Limit": {"10"}, "Anthropic-Ratelimit-Requests-Remaining": {"7"},
			"Anthropic-Ratelimit-Requests-Reset": {testNow.Add(time.Second).Format(time.RFC3339)}},
			0, 0, 0, 0, false},
		{"IETF policy: quota per window", http.Header{"Ratelimit": {`"default";r=50;t=30`}, "Ratelimit-Policy": {`"default";q=120;w=60`}},
			2, 45, 0, 0, false},
		{"Azure: remaining alone says no rate", http.Header{"X-Ratelimit-Remaining-Requests": {"99"}}, 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := testPacer(genericPolicy())
			observeAt(p, ok200(tt.h), testNow)
			lim, src := p.limit(testNow)
			if want := tt.reqs * learnedHeadroom; !near(lim.RequestRate, want) || (tt.reqs > 0 && lim.RequestBurst != tt.burst) {
				t.Errorf("requests: %v/s burst %d, want %v/s burst %d", lim.RequestRate, lim.RequestBurst, want, tt.burst)
			}
			if want := tt.tokens * learnedHeadroom; !near(lim.TokenRate, want) || (tt.tokens > 0 && lim.TokenBurst != tt.tokBurst) {
				t.Errorf("tokens: %v/s burst %d, want %v/s burst %d", lim.TokenRate, lim.TokenBurst, want, tt.tokBurst)
			}
			if (src == configured) != (tt.reqs == 0 && tt.tokens == 0) {
				t.Errorf("source = %v: a learned limit is a guess", src)
			}
			if p.pacesTokens() != tt.pacesToks {
				t.Errorf("pacesTokens = %v, want %v", p.pacesTokens(), tt.pacesToks)
			}
		})
	}

	// Configured limits win over learned ones.
	p, _ := testPacer(&Policy{Limits: Limits{RequestsPerMinute: 60}})
	observeAt(p, ok200(tests[1].h), testNow)
	if got, src := p.limit(testNow); !near(got.RequestRate, configuredHeadroom) || src != configured {
		t.Errorf("configured 60/min: got %v/s (source %v), want %v/s", got.RequestRate, src, configuredHeadroom)
	}
}

func near(a, b rate.Limit) bool { return a >= b*0.999 && a <= b*1.001 }

// TestPacingDailyWindow: a daily limit with most of it left must not pace
// requests at a day's average rate (it once paced at burst 1 and failed the
// third request with ErrDeadline).
func TestPacingDailyWindow(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, nil)
	left := 999
	srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
		left--
		return llmretrytest.Step{Status: 200, Body: []byte(llmretrytest.Completion), Header: http.Header{
			"X-Ratelimit-Limit-Requests-Day": {"1000"}, "X-Ratelimit-Remaining-Requests-Day": {itoa(int64(left))},
			"X-Ratelimit-Reset-Requests-Day": {"72000"}}}
	})
	for i := 0; i < 20; i++ {
		ctx, cancel := timeoutCtx(30 * time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(chatBody))
		_, _, err := do(t, tr, req)
		cancel()
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if w := ft.Waits(); len(w) != 0 {
		t.Errorf("waits %v: 999 of 1000 left for the day may go now", w)
	}
}

// TestPacingAbsurdHeadersRecover: one response with absurd rate headers
// must not make the key unusable (it once paced at 1 request per 8000h).
func TestPacingAbsurdHeadersRecover(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, nil)
	srv.Enqueue(llmretrytest.Step{Status: 200, Body: []byte(llmretrytest.Completion), Header: http.Header{
		"X-Ratelimit-Limit": {"2"}, "X-Ratelimit-Remaining": {"1"}, "X-Ratelimit-Reset": {"8000h"}}})
	for i := 0; i < 5; i++ {
		if _, _, err := post(t, tr, srv.URL); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	for _, w := range ft.Waits() {
		if w > defaultMaxWait {
			t.Errorf("waited %v: a learned limit never holds a request beyond MaxWait", w)
		}
	}
	if n := len(srv.Requests()); n != 5 {
		t.Errorf("%d requests reached the server, want 5", n)
	}
	// The reading expires: the key is unpaced again.
	later := ft.Now().Add(learnedTTL + time.Second)
	req := mustRequest(srv.URL)
	if lim, _ := pacerOf(tr, tr.policyFor(req, requestOptions{}), req).limit(later); lim.RequestRate != 0 {
		t.Errorf("after %v: still paced at %v/s", learnedTTL, lim.RequestRate)
	}
}

func mustRequest(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	return req
}

// TestPacingGuessNeverFails: a learned or estimated pace that cannot be met
// before the deadline lets the request go; only configured limits, and a
// pause a 429's wait hint asked for, fail it with ErrDeadline.
func TestPacingGuessNeverFails(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	// An estimate: a 429 without hint after one accepted request.
	observeAt(p, ok200(nil), testNow)
	observeAt(p, limited(nil), testNow)
	if lim, src := p.limit(testNow); lim.RequestRate <= 0 || src != estimated {
		t.Fatalf("limit %+v source %v: want an estimated rate", lim, src)
	}
	ctx := deadlineCtx{bg(), testNow.Add(2 * time.Second)} // on the fake clock
	for i := 0; i < 10; i++ {
		if err := p.acquire(ctx, 1, ft.Now()); err != nil {
			t.Fatalf("request %d: %v: a guess must not fail a request", i+1, err)
		}
	}
	// A pause longer than the deadline that no 429 asked for (a window the
	// headers say is spent, a reset): a claim, so go and get the server's
	// answer.
	p.pause(bg(), ft.Now(), 10*time.Second)
	if err := p.acquire(ctx, 1, ft.Now()); err != nil {
		t.Errorf("during a pause past the deadline: %v, want the request to go", err)
	}
	// One that a 429's Retry-After asked for: the server's answer is known,
	// and an attempt would only add to the load (attack 7 finding 1).
	h := http.Header{}
	h.Set("Retry-After", "10")
	observeAt(p, limited(h), ft.Now())
	observeAt(p, limited(h), ft.Now()) // a burst's, not a lone 429's
	if err := p.acquire(ctx, 1, ft.Now()); !errors.Is(err, ErrDeadline) {
		t.Errorf("during a pause a Retry-After asked for, past the deadline: %v, want ErrDeadline", err)
	}
}

// TestPacingFirstCutFromAccepted: the first 429 without a hint starts the
// estimate from what the server accepted in the last second, not from an
// empty window (which once meant the 1/s floor).
func TestPacingFirstCutFromAccepted(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	for i := 0; i < 10; i++ { // a first wave: 10 accepted within 5 ms
		observeAt(p, ok200(nil), testNow.Add(time.Duration(i)*500*time.Microsecond))
	}
	now := testNow.Add(5 * time.Millisecond)
	observeAt(p, limited(nil), now)
	if got, _ := p.limit(now); got.RequestRate < 10 || got.RequestRate > 11.2 {
		t.Errorf("after the first 429: %v/s, want 10/s, what the server accepted in the last second", got.RequestRate)
	}
}

// simBucket is a server's token bucket on the fake clock: rate a second,
// burst at most, starting full.
type simBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *simBucket) admit(now time.Time) bool { return b.admitN(now, 1) }

// admitN takes n from the bucket at now, if it holds them.
func (b *simBucket) admitN(now time.Time, n int) bool {
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
	}
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// simulate sends n requests one after the other through p, as fast as its
// pace lets them go (each takes 1 ms), against srv, answering refusals with
// refused (nil: a bare 429). It returns the times of the accepted ones and
// the number refused.
func simulate(p *pacer, ft *fakeTime, srv func(time.Time) bool, n int, refused func() *http.Response) (accepted []time.Time, limited429 int) {
	if refused == nil {
		refused = func() *http.Response { return limited(nil) }
	}
	for i := 0; i < n; i++ {
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			panic(err)
		}
		now := ft.Now()
		tk := p.send(bg(), now, 1, false)
		resp := ok200(nil)
		if !srv(now) {
			resp = refused()
			limited429++
		} else {
			accepted = append(accepted, now)
		}
		ft.Sleep(bg(), time.Millisecond)
		at := ft.Now()
		p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
	}
	return accepted, limited429
}

// TestPacingEstimateConverges: against a server that refuses with bare
// 429s above 100 requests/s, the estimate finds its rate from the
// answers between the 429s: a client that could send 1,000 a second
// settles at it, with few 429s, and does not fall below it.
func TestPacingEstimateConverges(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	srv := &simBucket{rate: 100, burst: 10}
	accepted, refused := simulate(p, ft, srv.admit, 3000, nil)
	if len(accepted) < 2000 {
		t.Fatalf("%d accepted of 3000", len(accepted))
	}
	// The last 1,000 accepted: their rate against the server's 100/s.
	tail := accepted[len(accepted)-1000:]
	got := 999 / tail[999].Sub(tail[0]).Seconds()
	if got < 90 || got > 101 {
		t.Errorf("settled at %.1f accepted/s, want 90–101 (the server's 100/s, less headroom)", got)
	}
	if refused > 300 {
		t.Errorf("%d 429s for 3000 requests, want at most 10%%", refused)
	}
	// The estimate saws around the rate (AIMD, estimate.grow): cut to 0.7 of
	// it at worst, probed above it until the next 429.
	lim, src := p.limit(ft.Now())
	if src != estimated || lim.RequestRate < 65 || lim.RequestRate > 130 {
		t.Errorf("estimate %v/s (source %v), want 65–130/s, about the server's 100/s", lim.RequestRate, src)
	}
}

// simulateCosts is simulate for requests of varying cost (cost(i) tokens)
// against a tokens bucket: each request is paced by its cost once the
// pacer paces tokens, as RoundTrip's. It returns the refusals, and the
// send time and cost of each accepted request.
func simulateCosts(p *pacer, ft *fakeTime, srv *simBucket, n int, cost func(int) int) (refused int, accepted []sentCost) {
	for i := 0; i < n; i++ {
		c := cost(i)
		if err := p.acquire(bg(), c, ft.Now()); err != nil {
			panic(err)
		}
		now := ft.Now()
		paid, costed := 1, p.pacesTokens()
		if costed {
			paid = c
		}
		tk := p.send(bg(), now, paid, costed)
		resp := ok200(nil)
		if srv.admitN(now, c) {
			accepted = append(accepted, sentCost{now, c})
		} else {
			resp = limited(nil)
			refused++
		}
		ft.Sleep(bg(), time.Millisecond)
		at := ft.Now()
		p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
	}
	return refused, accepted
}

type sentCost struct {
	at   time.Time
	cost int
}

// TestPacingEstimateTokens: against a tokens limit that refuses with bare
// 429s, requests of varying cost (10 to 300 tokens) are paced in tokens as
// well as in requests: the estimate measures the tokens accepted per
// request between 429s, and the accepted tokens settle at the server's
// rate with few 429s.
func TestPacingEstimateTokens(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	srv := &simBucket{rate: 10000, burst: 1000}
	refused, accepted := simulateCosts(p, ft, srv, 6000, func(i int) int { return 10 + (i*97)%291 })
	// The accepted among the second half of the requests.
	tokens, first := 0, time.Time{}
	for _, a := range accepted[len(accepted)/2:] {
		if first.IsZero() {
			first = a.at
		}
		tokens += a.cost
	}
	// The estimate saws around the server's rate (estimate.grow probes
	// above it, additively, until a 429 cuts it to at most 0.7): at any
	// moment it is between a cut's floor and a probe's overshoot. The facts
	// that matter, the tokens accepted and the 429s, are held tighter below.
	lim, _ := p.limit(ft.Now())
	if lim.TokenRate < 6500 || lim.TokenRate > 16000 {
		t.Errorf("estimated tokens rate %v/s, want within the sawtooth around the server's 10,000/s (6,500–16,000)", lim.TokenRate)
	}
	if got := float64(tokens) / ft.Now().Sub(first).Seconds(); got < 8500 || got > 10100 {
		t.Errorf("accepted %.0f tokens/s over the second half, want 8,500–10,100 (the server's 10,000/s)", got)
	}
	if refused > 600 {
		t.Errorf("%d 429s for 6000 requests, want at most 10%%", refused)
	}
}

// TestPacingEstimateMeasure: the rate measured between two 429s is what
// was sent between them, less what was refused, over the time between.
func TestPacingEstimateMeasure(t *testing.T) {
	t.Parallel()
	var e estimate
	at := func(ms int) int64 { return testNow.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	e.mark(ticket{seq: 10, at: at(0)})
	e.mark(ticket{seq: 30, at: at(50)}) // a second 429, too soon to measure from
	e.mark(ticket{seq: 31, at: at(60)}) // counted, not kept (under markSpacing)
	// 429 for seq 61 at 500 ms: 51 sent after seq 10, 3 refused (with its
	// own): 48 accepted in 0.5 s.
	if got, share, _, _ := e.measure(ticket{seq: 61, at: at(500)}); got < 95 || got > 97 || share < 0.05 || share > 0.07 {
		t.Errorf("measure = %v/s, %v refused, want 96/s (48 accepted in 500 ms) and 3 of 51 refused", got, share)
	}
	if got, _, _, _ := e.measure(ticket{seq: 12, at: at(100)}); got != 0 {
		t.Errorf("measure within minMeasureSpan = %v, want 0 (nothing to measure from)", got)
	}
}

// TestPacingEstimateStartsFromFirstBurst: the answers of a first burst
// arrive together, 429s before some successes; the estimate starts from
// what was accepted by the last 429 of the burst, not by the first (which
// once meant the 1/s floor, and a 64/s cap after slow start).
func TestPacingEstimateStartsFromFirstBurst(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	now := testNow
	observeAt(p, limited(nil), now) // nothing accepted yet
	for i := 0; i < 10; i++ {
		observeAt(p, ok200(nil), now.Add(time.Millisecond))
	}
	observeAt(p, limited(nil), now.Add(2*time.Millisecond))
	if got, _ := p.limit(now.Add(2 * time.Millisecond)); got.RequestRate < 10 {
		t.Errorf("after the first burst: %v/s, want at least 10/s, what it accepted", got.RequestRate)
	}
	// Slow start grows with the answers accepted, not with time: a pause
	// (nothing sent) leaves it where it was; then each answer adds what
	// doubles the rate every slowDoubling, without the old 64-fold cap.
	start, _ := p.limit(now)
	if got, _ := p.limit(now.Add(3 * time.Second)); got.RequestRate != start.RequestRate {
		t.Errorf("3 s without an answer: %v/s, want %v/s, the rate before", got.RequestRate, start.RequestRate)
	}
	for i := 0; i < 1000; i++ {
		observeAt(p, ok200(nil), now.Add(3*time.Second))
	}
	if got, _ := p.limit(now.Add(3 * time.Second)); got.RequestRate < 64*adaptiveFloor*10 {
		t.Errorf("1000 answers of slow start without a 429: %v/s, want > 640/s", got.RequestRate)
	}
}

// TestPacingEstimateRandomShedding: a server that refuses 5% of all
// requests whatever the rate does not drive the estimate down without end.
func TestPacingEstimateRandomShedding(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	n := 0
	accepted, _ := simulate(p, ft, func(time.Time) bool { n++; return n%20 != 0 }, 5000, nil)
	tail := accepted[len(accepted)-500:]
	if got := 499 / tail[499].Sub(tail[0]).Seconds(); got < 50 {
		t.Errorf("a server shedding 5%% at random drove the pace down to %.1f/s", got)
	}
}

// TestPacingConfiguredNoEstimate: a 429 under a configured limit is not
// evidence of a lower one: the pace stays what was configured.
func TestPacingConfiguredNoEstimate(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(&Policy{Limits: Limits{TokensPerMinute: 60000}})
	for i := 0; i < 5; i++ {
		observeAt(p, ok200(nil), testNow)
		observeAt(p, limited(nil), testNow.Add(time.Duration(i)*300*time.Millisecond))
	}
	if lim, src := p.limit(testNow.Add(2 * time.Second)); src != configured || lim.RequestRate != 0 {
		t.Errorf("limit %+v source %v after 429s: want the configured tokens limit alone", lim, src)
	}
}

// TestPacingReleasesAfterPauseAtPace: after a pause, with nothing learned
// but what the server accepted, the waiters go at that pace, not at once
// (they once all went in the same instant).
func TestPacingReleasesAfterPauseAtPace(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	for i := 0; i < 10; i++ {
		observeAt(p, ok200(nil), testNow)
	}
	hinted := limited(http.Header{"Retry-After-Ms": {"1000"}})
	for i := 0; i < 10; i++ { // the rest of the first wave: a burst of 429s, which pauses the key
		observeAt(p, hinted, testNow)
	}
	var released []time.Time
	for i := 0; i < 20; i++ {
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		released = append(released, ft.Now())
	}
	end := testNow.Add(time.Second)
	for i, r := range released {
		if r.Before(end) {
			t.Fatalf("waiter %d released at %v, before the pause's end", i, r.Sub(testNow))
		}
	}
	// From 10/s, burst 1, growing: never more than burst+1 in 20 ms, and
	// the first two a tenth of a second apart.
	if gap := released[1].Sub(released[0]); gap < 85*time.Millisecond {
		t.Errorf("first two waiters released %v apart, want about 100ms at 10/s", gap)
	}
	for i := 2; i < len(released); i++ {
		if gap := released[i].Sub(released[i-2]); gap < 20*time.Millisecond {
			t.Fatalf("waiters %d to %d released within %v, want no more than 2 in 20 ms", i-2, i, gap)
		}
	}
}

// TestPacingPauseHoldsOthers: after a 429 with a hint, no request reaches
// the server before the pause ends, however many are waiting.
func TestPacingPauseHoldsOthers(t *testing.T) {
	t.Parallel()
	srv := llmretrytest.Start(t)
	const pause = 300 * time.Millisecond
	var first atomic.Int64
	srv.Respond(func(r llmretrytest.Request) llmretrytest.Step {
		if first.CompareAndSwap(0, time.Now().UnixNano()) {
			s := llmretrytest.Dialect("openai").RateLimit(0)
			s.Header.Set("Retry-After-Ms", "300")
			return s
		}
		return llmretrytest.Step{}
	})
	tr := &Transport{Base: &http.Transport{}}
	var wg sync.WaitGroup
	tr.Observer = onAttempt(func(a AttemptInfo) {
		if a.Attempt == 1 && a.Verdict.Status == 429 {
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, _, err := post(t, tr, srv.URL); err != nil {
						t.Error(err)
					}
				}()
			}
		}
	})
	if _, _, err := post(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, r := range srv.Requests()[1:] {
		if d := r.Time.Sub(time.Unix(0, first.Load())); d < pause {
			t.Errorf("a request reached the server %v after the 429, within its %v pause", d, pause)
		}
	}
}

// TestPacingNoProbeWait: the requests of a new key go at once; none waits
// behind the first one's answer, which for a non-streaming LLM answer comes
// only when its generation is done.
func TestPacingNoProbeWait(t *testing.T) {
	t.Parallel()
	const n = 8
	tr, srv, ft := setup(t, nil) // the fake clock: a pacing wait is recorded, a hold behind an answer would time out
	var arrived atomic.Int32
	all := make(chan struct{})
	var late atomic.Bool
	srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
		if arrived.Add(1) == n {
			close(all)
		}
		select { // each answer waits until all n have arrived
		case <-all:
		case <-time.After(30 * time.Second): // only if a request is held behind another's answer
			late.Store(true)
		}
		return llmretrytest.Step{}
	})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := post(t, tr, srv.URL); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if late.Load() {
		t.Errorf("only %d of %d requests arrived while the first was unanswered: they waited behind it", arrived.Load(), n)
	}
	if w := ft.Waits(); len(w) > 0 {
		t.Errorf("pacing waits %v on a key nothing limits", w)
	}
}

// TestPacingDisableLearningKeepsPauses: DisableLearning keeps the pause a
// 429 with a hint asks for, as its comment says.
func TestPacingDisableLearningKeepsPauses(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, &Policy{Limits: Limits{DisableLearning: true}})
	srv.Enqueue(llmretrytest.Dialect("gptgob").RateLimit(2))
	req, _ := http.NewRequestWithContext(sendOnce(bg()), http.MethodPost, srv.URL, strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234")
	if _, _, err := do(t, tr, req); err != nil {
		t.Fatal(err)
	}
	if _, _, err := post(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	if got := ft.Waits(); len(got) != 1 || got[0] != 2*time.Second {
		t.Errorf("waits = %v, want [2s]: the pause still applies", got)
	}
}

// TestPacingKeysByHost: requests without credentials to different hosts do
// not share a key (they once all shared "generic:anonymous").
func TestPacingKeysByHost(t *testing.T) {
	t.Parallel()
	tr, a, ft := setup(t, &Policy{Limits: Limits{RequestsPerMinute: 60, RequestBurst: 1}})
	b := llmretrytest.Start(t)
	for _, url := range []string{a.URL, b.URL} {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(chatBody))
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
	}
	if w := ft.Waits(); len(w) != 0 {
		t.Errorf("waits %v: two hosts must not share a bucket", w)
	}
}

func TestPacerNilIsSafe(t *testing.T) {
	t.Parallel()
	var p *pacer
	if err := p.acquire(bg(), 1, testNow); err != nil {
		t.Error(err)
	}
	p.observe(bg(), ok200(nil), Verdict{Status: 200}, p.send(bg(), testNow, 1, false), testNow)
	p.release()
	if p.pacesTokens() || p.holdsSlots() || func() bool { c, _ := p.cost(mustRequest("http://x"), replayBody{}, 0); return c != 1 }() {
		t.Error("a nil pacer paces nothing")
	}
}

// TestPacingObserveAllocatesNothing: a 2xx without rate headers costs no
// allocation in the pacer.
func TestPacingObserveAllocatesNothing(t *testing.T) {
	p, _ := testPacer(genericPolicy())
	resp := ok200(http.Header{"Content-Type": {"application/json"}})
	v := Verdict{Status: 200}
	if n := testing.AllocsPerRun(100, func() {
		p.acquire(bg(), 1, testNow)
		p.observe(bg(), resp, v, p.send(bg(), testNow, 1, false), testNow)
	}); n != 0 {
		t.Errorf("acquire+observe allocate %v times, want 0", n)
	}
}

// TestPacingCostOnRetry: a request that began before its key learned a
// tokens limit costs 1 then; its retries are paced by its real cost (they
// once went at 1 token each, 429 after 429).
func TestPacingCostOnRetry(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	req := mustRequest("http://x")
	get := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(chatBody)), nil }
	rt := route{pacer: p, req: req, get: get}
	tr := &Transport{}
	if got := rt.paceCost(tr); got != 1 || rt.costed {
		t.Fatalf("cost %d (estimated %v) before tokens are paced, want 1, not estimated", got, rt.costed)
	}
	observeAt(p, ok200(http.Header{"X-Ratelimit-Limit-Tokens": {"1000"}, "X-Ratelimit-Remaining-Tokens": {"500"}, "X-Ratelimit-Reset-Tokens": {"5s"}}), testNow)
	if got, want := rt.paceCost(tr), EstimateTokens([]byte(chatBody)); got != want || !rt.costed {
		t.Errorf("cost %d on the retry after the key learned a tokens limit, want %d", got, want)
	}
}

// TestPacingLone429NoPace (issue 20, attack finding 1): one 429 with
// nothing but a wait hint among 50 accepted answers is no evidence of a
// limit. No pace starts, and the key's other requests are not paused for
// the hint (the refused request itself waits it: Transport). Before, it
// started a pace at the last second's accepted rate and paused the key for
// the hint. A bare 429 still starts the estimate (TestPacingFirstCutFromAccepted),
// and so does one with rate-limit headers (TestPacingSharedBucketOutvoted).
func TestPacingLone429NoPace(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	now := testNow
	for i := 0; i < 50; i++ {
		now = now.Add(10 * time.Millisecond)
		observeAt(p, ok200(nil), now)
	}
	now = now.Add(10 * time.Millisecond)
	observeAt(p, limited(http.Header{"Retry-After-Ms": {"1000"}}), now)
	if lim, src := p.limit(now); lim.RequestRate > 0 || src != configured {
		t.Errorf("after one 429 among 50 answers: paced at %v/s from %v, want no pace", lim.RequestRate, src)
	}
	if d := time.Duration(p.pausedUntil.Load() - now.UnixNano()); d > 0 {
		t.Errorf("after one 429 among 50 answers: the key paused %v, want no pause for the others", d)
	}
}

// TestPacingSporadic429sHoldNobody (issue 20, attack finding 1): a server
// with room to spare that refuses every tenth attempt with
// retry-after-ms: 1000, a caller sending every 50 ms for 10 s, answers in
// 5 ms. No request waits in the pacer: each refusal is the refused
// request's own wait. Before, each 429 paused the key for a second and
// cut a pace started from the accepted rate: requests waited up to a
// second, and the bench's open loop queued without end (wall 33.7 s
// against openai-go's 10.3 s).
func TestPacingSporadic429sHoldNobody(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	var held time.Duration
	for i := 0; i < 200; i++ {
		if at := testNow.Add(time.Duration(i) * 50 * time.Millisecond); ft.Now().Before(at) {
			ft.Sleep(bg(), at.Sub(ft.Now()))
		}
		before := ft.Now()
		if err := p.acquire(bg(), 1, before); err != nil {
			t.Fatal(err)
		}
		held = max(held, ft.Now().Sub(before))
		tk := p.send(bg(), ft.Now(), 1, false)
		resp := ok200(nil)
		if i%10 == 9 {
			resp = limited(http.Header{"Retry-After-Ms": {"1000"}})
		}
		ft.Sleep(bg(), 5*time.Millisecond)
		at := ft.Now()
		p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
	}
	if held > 0 {
		t.Errorf("a request waited %v in the pacer, want none: 10%% of attempts refused is no limit", held)
	}
}

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

// noiseTest weighs what a cut did to the share accepted: the same share at
// half the rate is random refusals (three such samples drop the estimate),
// twice the share is a limit (no amount of such samples does), and a sample
// with nothing accepted is no evidence either way for random refusals.
func TestNoiseTestTellsRandomFromLimit(t *testing.T) {
	t.Parallel()
	at := func(ms int) int64 { return testNow.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	// 16 answers sent over 750 ms (20/s) after a cut from 40/s at a fifth accepted.
	sample := func(k int) noiseProbe {
		return noiseProbe{from: 1, pb: 0.2, sentBefore: 40, n: 16, k: k, firstAt: at(0), last: at(750)}
	}
	fresh := func() *estimate {
		e := &estimate{base: 20, measured: true, cutAt: testNow, nz: &noiseState{}}
		for i := 0; i < 40; i++ { // the answers since the estimate started: a fifth accepted
			e.sampled(ticket{seq: uint64(i + 1), at: at(i * 25)}, i%5 == 0, testNow)
		}
		return e
	}

	e := fresh()
	for i := 1; i <= 3; i++ {
		dropped := e.noiseTest(sample(3), testNow) // 3 of 16: a fifth, as before the cut
		if want := i == 3; dropped != want {
			t.Fatalf("random refusals, sample %d: dropped %v (evidence %.2f), want %v", i, dropped, e.nz.noiseLLR, want)
		}
	}
	if e.base != 0 || !e.nz.noisy {
		t.Errorf("after random refusals: estimate %.1f/s, noisy %v; want none, and noisy", e.base, e.nz.noisy)
	}
	// A later 429 at that share neither cuts nor starts an estimate; one far
	// over it (a limit on top) does.
	e.cut(testNow.Add(time.Second), 5, 0.8, 40, 5, time.Time{}, false, 100)
	if e.base != 0 {
		t.Errorf("a 429 at the noise's share started an estimate: %.1f/s", e.base)
	}
	e.cut(testNow.Add(2*time.Second), 5, 0.99, 400, 5, time.Time{}, false, 500)
	if e.base <= 0 {
		t.Errorf("a 429 far over the noise's share (99%% of 400) started no estimate")
	}

	e = fresh()
	for i := 0; i < 20; i++ {
		if e.noiseTest(sample(8), testNow) { // 8 of 16: twice the share at half the rate
			t.Fatalf("a limit's samples (twice the share accepted at half the rate) dropped the estimate at sample %d", i+1)
		}
	}
	if e.nz.noiseLLR != -noiseEvidence {
		t.Errorf("a limit's evidence %.2f, want floored at %.0f", e.nz.noiseLLR, -noiseEvidence)
	}
	// Then random refusals are found within 6 samples (the floor bounds a limit's evidence).
	n := 0
	for n = 1; n <= 6 && !e.noiseTest(sample(3), testNow); n++ {
	}
	if n > 6 {
		t.Errorf("after a limit's evidence, random refusals not found in 6 samples")
	}

	e = fresh()
	for i := 0; i < 20; i++ {
		if e.noiseTest(sample(0), testNow) { // nothing accepted: a server down
			t.Fatalf("samples with nothing accepted dropped the estimate (sample %d)", i+1)
		}
	}
}
