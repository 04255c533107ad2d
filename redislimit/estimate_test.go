package redislimit

import (
	"container/heap"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// A process that never met a 429 is paced at what another process learned
// from its own: after a's requests are refused with bare 429s (nothing
// announced), the fleet's estimate is what the fleet's answers accepted
// (none: the floor, 1/s), and b's requests on the key go at it, in the
// shared bucket.
// Before the shared estimate, each process estimated its own share after
// its own 429s, and b, never refused, sent at once.
func TestFleetLearnsTogether(t *testing.T) {
	rs := startRedis(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Process") == "a" {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	process := func() *llmretry.Transport {
		base := &http.Transport{}
		t.Cleanup(base.CloseIdleConnections)
		pol := &llmretry.Policy{MaxRetries: -1, Limits: llmretry.Limits{Limiter: New(rs.client(t), Options{Timeout: 5 * time.Second})}}
		return &llmretry.Transport{Base: base, Policy: pol}
	}
	send := func(tr *llmretry.Transport, who string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
		req.Header.Set("X-Process", who)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	a, b := process(), process()
	for i := 0; i < 2; i++ { // two 429s a cut interval apart: past the slow start
		if i > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		if code := send(a, "a"); code != http.StatusTooManyRequests {
			t.Fatalf("a's request: %d, want 429", code)
		}
	}
	start := time.Now()
	for i := 0; i < 3; i++ {
		if code := send(b, "b"); code != http.StatusOK {
			t.Fatalf("b's request %d: %d", i, code)
		}
	}
	// b's first request takes the bucket's one request at the fleet's
	// 1/s; the answers accepted then grow it by 5% of a request a second
	// each (the key is not held by its pace): b's second request waits for
	// about a second.
	if took, want := time.Since(start), 900*time.Millisecond; took < want {
		t.Errorf("b's three requests took %v, want ≥ %v: paced at the fleet's estimate", took.Round(time.Millisecond), want)
	}
}

// simulated is one learning process of TestFleetSharedEstimate.
type simulated struct{ l *Limiter }

// simEvent is a worker's next step at a time on the fake clock.
type simEvent struct {
	at     int64 // µs
	proc   int
	send   bool // the attempt goes (its reservation's time has come); else the worker asks for one
	worker int
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	if q[i].proc != q[j].proc {
		return q[i].proc < q[j].proc
	}
	return q[i].worker < q[j].worker
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// Processes that share a key with no configured limit learn one estimate
// of the server's whole rate and send at it in all, as one process would:
// three Limiters, eight workers each, against a server that allows 100/s
// with a burst of 10 and refuses the rest with a bare 429, on a fake clock
// passed to the scripts (no timing luck: the run is the same every time).
// After two seconds, the fleet sends within the server's rate and near it,
// and the three Limiters see one estimate.
func TestFleetSharedEstimate(t *testing.T) {
	const settled = 2 * time.Second
	sim := simulateFleet(t, 6*time.Second, settled)
	span := (6*time.Second - settled).Seconds()
	sent := float64(sim.accepted+sim.refused) / span
	t.Logf("after %v: %.1f sends/s, %.1f accepted/s, %d 429s", settled, sent, float64(sim.accepted)/span, sim.refused)
	if sent > 1.1*simServerRate {
		t.Errorf("the fleet sent %.1f/s, want ≤ %.0f/s: one estimate for all, not a share each", sent, 1.1*simServerRate)
	}
	if got := float64(sim.accepted) / span; got < 0.9*simServerRate {
		t.Errorf("the server accepted %.1f/s, want ≥ %.0f/s", got, 0.9*simServerRate)
	}
	for _, e := range sim.seen {
		if e < 0.9*sim.seen[0] || e > 1.1*sim.seen[0] || e <= 0 {
			t.Errorf("the processes see estimates %v, want one", sim.seen)
			break
		}
	}
}

// A cut of the fleet's estimate goes to the rate the server accepted
// between 429s (with headroom), not below it: once settled, the estimate
// never falls under the server's rate by more than the headroom, and the
// server is kept full. The fleet's estimate is one flow, not one of many
// shares: the core's cut to at most fairCut (0.7) of the rate, which evens
// out the shares of processes that cannot talk (AIMD), took it from 110/s,
// a few percent over the server's 100/s, to 78/s every second or two, and
// the server went a quarter idle for the second it took to grow back (bench
// fleet, redislimit learned: 21-22 accepted per 250 ms where 25 go, twice
// a run; docs/runs/2026-12-07-rdfleet.md). Same simulation as
// TestFleetSharedEstimate, for 10 s.
func TestFleetCutToMeasure(t *testing.T) {
	const settled, runFor = 2 * time.Second, 10 * time.Second
	sim := simulateFleet(t, runFor, settled)
	low, at := math.Inf(1), time.Duration(0)
	for i, e := range sim.estimates {
		if d := time.Duration(i) * simBin; d >= settled && e > 0 && e < low {
			low, at = e, d
		}
	}
	if floor := 0.9 * simServerRate; low < floor {
		t.Errorf("the fleet's estimate fell to %.1f/s at %v, want ≥ %.0f/s: a cut to the rate measured between 429s", low, at, floor)
	}
	for i, n := range sim.bins {
		if d := time.Duration(i) * simBin; d >= settled && d+simBin <= runFor && n < 23 {
			t.Errorf("the server accepted %d in the %v from %v, want ≥ 23 of %.0f", n, simBin, d, simServerRate*simBin.Seconds())
		}
	}
}

// simServerRate and simBin are simulateFleet's server rate (requests/s)
// and the width of its counts.
const (
	simServerRate = 100.0
	simBin        = 250 * time.Millisecond
)

// simRun is what simulateFleet saw.
type simRun struct {
	accepted, refused int       // from settled on
	bins              []int     // accepted answers per simBin from the start
	estimates         []float64 // the fleet's estimate as the processes last saw it at the end of each simBin (0: none)
	seen              []float64 // each process's estimate at the end, after one more reservation
}

// simulateFleet runs three Limiters, eight workers each, for runFor on a
// fake clock passed to the scripts, against a server that allows
// simServerRate with a burst of 10 and refuses the rest with a bare 429.
// Each worker does what its Transport would: asks for a reservation at the
// fleet's estimate as its Limiter last saw it (nothing learned before
// one), taking no longer than a 100 ms step, and tells the Limiter of each
// answer.
func simulateFleet(t *testing.T, runFor, settled time.Duration) simRun {
	rs := startRedis(t)
	rdb := rs.client(t)
	ctx := context.Background()
	const (
		procs, workers = 3, 8
		serverBurst    = 10.0
		latency        = 20_000  // µs from a send to its answer
		step           = 100_000 // µs: a guess's step (the core's guessStep)
	)
	origin := time.Now().Truncate(time.Second)
	var now int64 // µs since origin
	clock := func() time.Time { return origin.Add(time.Duration(now) * time.Microsecond) }
	ps := make([]*simulated, procs)
	for i := range ps {
		l := New(rdb, Options{Timeout: 5 * time.Second})
		l.clock = clock
		ps[i] = &simulated{l: l}
	}
	var run simRun
	bin := func(at int64) int {
		i := int(at / simBin.Microseconds())
		for len(run.bins) <= i {
			run.bins, run.estimates = append(run.bins, 0), append(run.estimates, 0)
		}
		return i
	}
	tokens, filled := serverBurst, int64(0) // the server's bucket
	q := &simQueue{}
	for p := 0; p < procs; p++ {
		for w := 0; w < workers; w++ {
			heap.Push(q, simEvent{at: 0, proc: p, worker: w})
		}
	}
	for q.Len() > 0 {
		ev := heap.Pop(q).(simEvent)
		if ev.at > runFor.Microseconds() {
			break
		}
		now = ev.at
		sp := ps[ev.proc]
		if ev.send {
			tokens = math.Min(serverBurst, tokens+float64(now-filled)/1e6*simServerRate)
			filled = now
			ok := tokens >= 1
			if ok {
				tokens--
			}
			now += latency // the answer
			if ok {
				sp.l.Accepted("k")
			} else {
				sp.l.Refused(ctx, "k")
			}
			i := bin(ev.at)
			if ok {
				run.bins[i]++
			}
			if e, _ := sp.l.Estimate("k"); e > 0 {
				run.estimates[i] = e
			}
			if ev.at >= settled.Microseconds() {
				if ok {
					run.accepted++
				} else {
					run.refused++
				}
			}
			heap.Push(q, simEvent{at: now, proc: ev.proc, worker: ev.worker})
			continue
		}
		pace := llmretry.Pace{Learned: true}
		if e, _ := sp.l.Estimate("k"); e > 0 { // as the Transport does (learninglimiter.go)
			pace = llmretry.Pace{RequestRate: rate.Limit(e), RequestBurst: 1, Learned: true, Estimated: true}
		}
		ok, delay := simReserve(t, rdb, sp.l, "k", pace, step)
		if !ok {
			heap.Push(q, simEvent{at: now + step, proc: ev.proc, worker: ev.worker})
			continue
		}
		heap.Push(q, simEvent{at: now + delay, proc: ev.proc, worker: ev.worker, send: true})
	}
	for _, sp := range ps {
		// What each sees once it asks again at the end: the estimate as
		// its last reply carried it may be from before the fleet's last cut.
		simReserve(t, rdb, sp.l, "k", llmretry.Pace{Learned: true}, 0)
		e, _ := sp.l.Estimate("k")
		run.seen = append(run.seen, e)
	}
	return run
}

// simReserve is one reservation for l at pace, as Wait makes it, on l's
// clock, waiting maxWait µs at most: whether it reserved, and in how many
// µs its request goes.
func simReserve(t *testing.T, rdb redis.Scripter, l *Limiter, key string, pace llmretry.Pace, maxWait int64) (bool, int64) {
	t.Helper()
	ke := l.est.get(key, l.now())
	args := append(l.reserveArgs(maxWait, pace, 1), ke.accepted.Swap(0), l.scriptNow())
	res, err := reserveScript.Run(context.Background(), rdb, l.keys(key), args...).Slice()
	if err != nil {
		t.Fatal(err)
	}
	ok, delay, _, err := parseReply(res)
	if err != nil {
		t.Fatalf("reply %v: %v", res, err)
	}
	noteEstimate(ke, res, ok, l.now())
	return ok, delay.Microseconds()
}

// What the fleet hash holds for the estimate is read as a claim: fields
// that are not finite numbers within their bounds (a rate above the most
// an estimate grows to, a time after Redis's clock, counts that run
// backwards, marks that do not parse) are ignored, and the estimate starts
// over from the next 429; a fleet key of another type turns sharing off
// without an error.
func TestFleetEstimateGarbage(t *testing.T) {
	rdb, l, told, us, fleet := garbageFixture(t)
	ctx := context.Background()
	for _, e := range []string{
		"nan 1 " + us(0) + " " + us(0) + " 0",
		"1e300 1 " + us(0) + " " + us(0) + " 0",
		"-5 1 " + us(0) + " " + us(0) + " 0",
		"50 1 " + us(time.Hour) + " " + us(0) + " 0", // cut in the future
		"50 7 " + us(0) + " " + us(0) + " 0",
		"50 1 " + us(0),
		"fifty",
	} {
		rdb.Del(ctx, fleet)
		rdb.HSet(ctx, fleet, "e", e, "n", "-3", "r", "x", "a", "1e400", "w", us(time.Hour),
			"s", "1 2 3", "m", "garbage;1,2;nan,nan,nan")
		if got := reservedAt(t, rdb, l, "k", nothingYet); got != 0 {
			t.Errorf("e = %q: paced at %d µs, want not paced: the estimate is garbage", e, got)
		}
		l.Refused(ctx, "k")
		r, _ := l.Estimate("k")
		if !(r >= 1 && r < 1e6) {
			t.Errorf("e = %q: after a 429 the estimate is %v, want a fresh start (≥ the 1/s floor)", e, r)
		}
	}
	rdb.Del(ctx, fleet)
	rdb.Set(ctx, fleet, "a string", 0)
	l.Refused(ctx, "k")
	l.Accepted("k")
	if r, _ := l.Estimate("k"); r != 0 || *told != 0 {
		t.Errorf("a fleet key of another type: estimate %v (OnError told %d times), want none and no error", r, *told)
	}
	if err := l.Wait(ctx, "k", nothingYet, 1); err != nil {
		t.Errorf("Wait on a fleet key of another type: %v", err)
	}
}

// A process that learned no rate itself, paced at the fleet's estimate,
// reserves at most fleetStep ahead and asks again after it, as its
// Transport does under an estimate: booking the bucket up to its deadline
// at the estimate of the moment, the workers of a process without an
// estimate yet held the fleet to a slow start's 15/s for two seconds while
// the estimate grew to 125/s (bench fleet, retry-after ×8, 1.36-3.45x).
func TestFleetNothingLearnedSteps(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now()
	clock := func() time.Time { return now }
	a, b := New(rdb, Options{}), New(rdb, Options{})
	a.clock, b.clock = clock, clock
	a.Refused(ctx, "k")
	now = now.Add(300 * time.Millisecond)
	a.Refused(ctx, "k") // the fleet's estimate, past its slow start: 1/s
	if again, err := b.waitOnce(ctx, "k", nothingYet, 1); again || err != nil {
		t.Fatalf("b's first request: again %v, %v; want it sent at once", again, err)
	}
	bucket := b.keys("k")[0]
	booked, _ := rdb.HGet(ctx, bucket, "r").Int64()
	if again, err := b.waitOnce(ctx, "k", nothingYet, 1); !again || err != nil {
		t.Errorf("b's second request, a second away: again %v, %v; want to ask again after %v", again, err, fleetStep)
	}
	if now, _ := rdb.HGet(ctx, bucket, "r").Int64(); now != booked {
		t.Errorf("the bucket is booked to %d µs, was %d: the second request reserved a second ahead", now, booked)
	}
}

// A first 429 starts the fleet's estimate from what the fleet's answers
// accepted over the last second, told before it with the reservations, not
// from those its own call carries: the window the accepted answers are
// counted in is kept from the fleet's first call on. It was started afresh
// by every call until a 429 wrote it, so a process whose accepted answers
// had ridden on its next reservations started the estimate at the floor,
// 1/s, and the slow start took 0.75 s to reach the server's 100/s (bench
// fleet, redislimit learned, retry-after ×1: 1.08×; 14, 4 and 10 accepted
// in the first three 250 ms). The window also gives the hash its expiry
// before any 429.
func TestFleetFirstCutCountsTheFleet(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	ctx := context.Background()
	now := time.Now()
	l := New(rdb, Options{Timeout: 5 * time.Second})
	l.clock = func() time.Time { return now }
	for i := 0; i < 10; i++ { // the first wave's burst, accepted
		l.Accepted("k")
	}
	now = now.Add(5 * time.Millisecond)
	simReserve(t, rdb, l, "k", nothingYet, -1) // carries the 10
	if ttl := rdb.PTTL(ctx, l.keys("k")[2]).Val(); ttl <= 0 {
		t.Errorf("the fleet hash's expiry after a reservation: %v, want one", ttl)
	}
	now = now.Add(15 * time.Millisecond)
	l.Refused(ctx, "k") // carries none
	if e, _ := l.Estimate("k"); e < 10 {
		t.Errorf("the estimate after the first 429: %.1f/s, want ≥ 10/s: the 10 accepted in the last second", e)
	}
}
