package llmretry

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// poolRig is a pool's state and the call's routes to its targets, each with
// a pacer on the fake clock at the pace given (requests per second; 0:
// nothing configured).
func poolRig(t *testing.T, ft *fakeTime, rates []float64, weights []float64) (*poolState, []Target, []route) {
	t.Helper()
	targets := make([]Target, len(rates))
	routes := make([]route, len(rates))
	var mem MemoryLimiter
	for i, r := range rates {
		pol := &Policy{Name: "m" + string(rune('a'+i)), Limits: Limits{RequestsPerMinute: r * 60}}
		targets[i] = Target{Name: pol.Name, Policy: pol}
		if weights != nil {
			targets[i].Weight = weights[i]
		}
		routes[i] = route{name: pol.Name, pol: pol, cost: 1,
			pacer: newPacer(pol, pol.Name, &mem, &seams{now: ft.Now, sleep: ft.Sleep})}
	}
	return &poolState{members: make([]poolMember, len(rates))}, targets, routes
}

// TestPoolChoice: the pool's choice on the fake clock. Requests arriving at
// the pool's whole pace are shared in proportion to the targets' paces times
// their weights; with no pace known, by weight alone.
func TestPoolChoice(t *testing.T) {
	tests := []struct {
		name    string
		rates   []float64
		weights []float64
		want    []int         // picks of each target out of the total
		gap     time.Duration // between arrivals; 0: at the pool's whole pace
	}{
		{"configured paces", []float64{100, 50, 25}, nil, []int{400, 200, 100}, 0},
		{"weights, no pace known", []float64{0, 0, 0}, []float64{3, 1, 0}, []int{420, 140, 140}, 0},
		{"a weight halves a pace", []float64{100, 100}, []float64{1, 0.5}, []int{400, 200}, 0},
		{"a negative weight is never chosen", []float64{100, 100}, []float64{1, -1}, []int{600, 0}, 0},
		// A tiny weight once overflowed its step into a negative one: the
		// target took every request.
		{"a tiny weight is hardly ever chosen", []float64{100, 100}, []float64{1, 1e-13}, []int{600, 0}, 0},
		{"a tiny weight, arrivals far below the paces", []float64{100, 100}, []float64{1, 1e-13}, []int{600, 0}, 50 * time.Millisecond},
		// One of many processes sharing the targets: every target is
		// free at each arrival, and the split still follows the paces.
		{"arrivals far below the paces", []float64{100, 50, 25}, nil, []int{400, 200, 100}, 50 * time.Millisecond},
		{"weights, arrivals far below the paces", []float64{100, 100}, []float64{1, 0.5}, []int{400, 200}, 50 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTime{now: time.Unix(1e9, 0)}
			s, targets, routes := poolRig(t, ft, tc.rates, tc.weights)
			for i := range targets {
				if targets[i].Weight < 0 {
					routes[i].pol = nil // joinPool leaves a route without policy for it
				}
			}
			total := 0
			for _, n := range tc.want {
				total += n
			}
			// The arrivals come at the pool's pace (the sum of what is
			// configured: 175/s), or all at once with none.
			gap := tc.gap
			if sum := tc.rates[0] + tc.rates[1]; sum > 0 && gap == 0 {
				for _, r := range tc.rates[2:] {
					sum += r
				}
				gap = time.Duration(float64(time.Second) / sum / 0.99)
			}
			got := make([]int, len(targets))
			for range total {
				got[s.pick(targets, routes, 0, ft.Now())]++
				ft.now = ft.now.Add(gap)
			}
			for i := range got {
				if d := got[i] - tc.want[i]; d < -2 || d > 2 {
					t.Errorf("picks %v, want %v (±2)", got, tc.want)
					break
				}
			}
		})
	}
}

// TestPoolCooldown: a failing target is left alone for its cooldown, longer
// with each failure in a row up to coolMax; when it ends one request probes
// it while the others go elsewhere; a success brings it back. A 429 cools it
// until its hint ends.
func TestPoolCooldown(t *testing.T) {
	ft := &fakeTime{now: time.Unix(1e9, 0)}
	s, targets, routes := poolRig(t, ft, []float64{100, 100}, nil)
	pick := func() int { return s.pick(targets, routes, 0, ft.Now()) }
	at := func(d time.Duration) { ft.now = ft.now.Add(d) }

	s.saw(0, Verdict{Class: ClassOverloaded}, ft.Now())
	for range 10 {
		if i := pick(); i != 1 {
			t.Fatalf("a target cooling down was chosen (%d)", i)
		}
		at(10 * time.Millisecond)
	}
	at(coolBase) // the cooldown is over: one probe
	if i := pick(); i != 0 {
		t.Fatalf("the cooled target was not probed after its cooldown (got %d)", i)
	}
	if i := pick(); i != 1 {
		t.Fatalf("a second request went to a target being probed")
	}
	s.saw(0, Verdict{Class: ClassServerError}, ft.Now()) // the probe failed: a longer cooldown
	if d := s.members[0].cool.Sub(ft.Now()); d != 2*coolBase {
		t.Fatalf("cooldown after two failures %v, want %v", d, 2*coolBase)
	}
	for range 5 {
		s.saw(0, Verdict{Class: ClassConnection}, ft.Now())
	}
	if d := s.members[0].cool.Sub(ft.Now()); d != coolMax {
		t.Fatalf("cooldown after seven failures %v, want at most %v", d, coolMax)
	}
	at(coolMax)
	if i := pick(); i != 0 {
		t.Fatalf("the recovered target was not probed %v after its last failure", coolMax)
	}
	s.saw(0, Verdict{Class: ClassOK}, ft.Now())
	got := []int{0, 0}
	for range 100 {
		got[pick()]++
		at(5 * time.Millisecond)
	}
	if got[0] < 45 {
		t.Fatalf("after its success, the target took %d of 100 requests", got[0])
	}

	s.saw(1, Verdict{Class: ClassRateLimited, RetryAfter: 3 * time.Second, Hint: "retry-after"}, ft.Now())
	at(2 * time.Second)
	for range 10 {
		if i := pick(); i != 0 {
			t.Fatalf("a target within its 429's hint was chosen")
		}
	}
	s.saw(0, Verdict{Class: ClassInvalidRequest}, ft.Now()) // the request's fault, not the target's
	if s.members[0].fails != 0 || s.members[0].cool.After(ft.Now()) {
		t.Fatal("an invalid request cooled its target down")
	}
}

// TestPoolPausedTarget: a target whose key the server paused waits for the
// pause's end; the others take the requests meanwhile.
func TestPoolPausedTarget(t *testing.T) {
	ft := &fakeTime{now: time.Unix(1e9, 0)}
	s, targets, routes := poolRig(t, ft, []float64{100, 10}, nil)
	routes[0].pacer.pause(bg(), ft.Now(), 2*time.Second)
	for range 5 {
		if i := s.pick(targets, routes, 0, ft.Now()); i != 1 {
			t.Fatal("a paused target was chosen while another was free")
		}
	}
	if d, ok := s.readyIn(routes[:1], -1, ft.Now()); !ok || d != 2*time.Second {
		t.Fatalf("a target paused for 2 s is ready in %v", d)
	}
}

// poolServers starts n fake providers, each its own target of a pool with
// its own key, and a Transport on the fake clock whose policy pools them.
func poolServers(t *testing.T, n int) (*Transport, []*llmretrytest.Server, *fakeTime, *Policy) {
	tr, first, ft := setup(t, nil)
	srvs := []*llmretrytest.Server{first}
	for len(srvs) < n {
		srvs = append(srvs, llmretrytest.Start(t))
	}
	pol := &Policy{Name: "pool"}
	for i, s := range srvs {
		pol.Pool = append(pol.Pool, Target{Name: "t" + string(rune('0'+i)), BaseURL: s.URL + "/v1", StripPrefix: "/v1",
			Header: http.Header{"Authorization": {"Bearer sk-target-" + string(rune('0'+i))}}})
	}
	tr.Policy = pol
	return tr, srvs, ft, pol
}

// TestPoolRetryMovesOn: an overloaded or rate-limited answer on one target
// is retried at once on another, not after the first one's hint or
// backoff; each attempt names its target; fallbacks come after the pool.
func TestPoolRetryMovesOn(t *testing.T) {
	tests := []struct {
		name string
		step llmretrytest.Step
	}{
		{"overloaded", llmretrytest.Dialect("anthropic").Overloaded(0)},
		{"rate limited with a 20 s hint", llmretrytest.Dialect("openai").RateLimit(20)},
		{"server error", llmretrytest.Dialect("openai").ServerError()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, srvs, ft, _ := poolServers(t, 2)
			var targets []string
			tr.Observer = onAttempt(func(a AttemptInfo) { targets = append(targets, a.Target) })
			srvs[0].Enqueue(tc.step)
			resp, _, err := post(t, tr, "http://caller.invalid")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("err %v, resp %v", err, resp)
			}
			if !slices.Equal(targets, []string{"t0", "t1"}) {
				t.Fatalf("attempts went to %v, want t0 then t1", targets)
			}
			if w := ft.Waits(); slices.ContainsFunc(w, func(d time.Duration) bool { return d > 0 }) {
				t.Fatalf("the retry on another target waited %v", w)
			}
		})
	}
}

// TestPoolThenFallback: when every target of the pool fails, the fallbacks
// apply after it.
func TestPoolThenFallback(t *testing.T) {
	tr, srvs, _, pol := poolServers(t, 2)
	fb := llmretrytest.Start(t)
	pol.Fallbacks = []Target{{Name: "fb", BaseURL: fb.URL}}
	for _, s := range srvs {
		s.Enqueue(llmretrytest.Dialect("anthropic").Overloaded(0))
	}
	var targets []string
	tr.Observer = onAttempt(func(a AttemptInfo) { targets = append(targets, a.Target+":"+a.Decision.String()) })
	resp, _, err := post(t, tr, "http://caller.invalid")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("err %v, resp %v", err, resp)
	}
	want := []string{"t0:retry", "t1:fallback", "fb:success"}
	if !slices.Equal(targets, want) {
		t.Fatalf("attempts %v, want %v", targets, want)
	}
}

// TestPoolCredentials: each target's credential goes to that target only,
// and the request's own credential to none that is another endpoint, in
// every way a request carries one (the fallback tests' entrances); a
// fallback after the pool gets none of the pool's keys; a redirect of one
// target reaches the caller without its Location.
func TestPoolCredentials(t *testing.T) {
	t.Parallel()
	tr, _, _ := setup(t, nil)
	own := startTap(t, 503, `{"error":{"message":"overloaded","type":"overloaded_error"}}`)
	host := strings.TrimPrefix(own.URL, "http://")
	keys := []string{"sk-pool-key-a-000000000001", "sk-pool-key-b-000000000002"}
	for _, in := range fallbackEntrances(host) {
		a := startTap(t, 503, `{"error":{"message":"overloaded","type":"overloaded_error"}}`)
		b := startTap(t, 503, `{"error":{"message":"overloaded","type":"overloaded_error"}}`)
		fb := startTap(t, 200, llmretrytest.Completion)
		pol := genericPolicy()
		pol.Pool = []Target{
			{Name: "own"}, // the request as written: its own credential
			{Name: "a", BaseURL: a.URL + "/openai/v1", StripPrefix: "/v1", Header: http.Header{"Api-Key": {keys[0]}}},
			{Name: "b", BaseURL: b.URL + "/x?api-version=1", Model: "other", Header: http.Header{"Authorization": {"Bearer " + keys[1]}}},
		}
		pol.Fallbacks = []Target{{BaseURL: fb.URL}}
		tr.Policy = pol
		req, _ := http.NewRequest(http.MethodPost, own.URL+"/v1/chat/completions", strings.NewReader(chatBody))
		in.set(req)
		resp, _, err := do(t, tr, req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: err %v, resp %v", in.name, err, resp)
		}
		if own.n.Load() == 0 || a.n.Load() != 1 || b.n.Load() != 1 || fb.n.Load() != 1 {
			t.Fatalf("%s: attempts own %d, a %d, b %d, fallback %d", in.name, own.n.Load(), a.n.Load(), b.n.Load(), fb.n.Load())
		}
		if !holdsSecret(own.sent()) {
			t.Fatalf("%s: the request's own target never saw its secret: the test checks nothing", in.name)
		}
		for _, s := range []struct {
			name string
			tap  *tap
			may  string // the one key it may see
		}{{"a", a, keys[0]}, {"b", b, keys[1]}, {"the fallback", fb, ""}} {
			wire := s.tap.sent()
			if holdsSecret(wire) {
				t.Errorf("%s: target %s saw the request's secret", in.name, s.name)
			}
			for _, k := range keys {
				if k != s.may && strings.Contains(wire, k) {
					t.Errorf("%s: target %s saw another target's key %s", in.name, s.name, k)
				}
				if k == s.may && !strings.Contains(wire, k) {
					t.Errorf("%s: target %s did not get its own key", in.name, s.name)
				}
			}
		}
		for _, k := range keys {
			if strings.Contains(own.sent(), k) {
				t.Errorf("%s: the request's own target saw a pool key", in.name)
			}
		}
	}
}

// TestPoolRedirectKeepsKeys: a target's 3xx reaches the caller without its
// Location, so that an http.Client does not follow it with headers that
// hold another target's key.
func TestPoolRedirectKeepsKeys(t *testing.T) {
	tr, srvs, _, pol := poolServers(t, 1)
	red := startTap(t, 307, `{}`)
	pol.Pool = append([]Target{{Name: "r", BaseURL: red.URL + "/v1", StripPrefix: "/v1", Header: http.Header{"X-Api-Key": {"sk-redirected-0000000001"}}}}, pol.Pool...)
	_ = srvs
	resp, _, err := post(t, tr, "http://caller.invalid")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == 307 && resp.Header.Get("Location") != "" {
		t.Fatalf("a redirect reached the caller with its Location %q", resp.Header.Get("Location"))
	}
}

// TestPoolConfig: a weight that is not a number fails every request, naming
// it; a request that fits no target fails without an attempt; a pool
// request's body is closed once.
func TestPoolConfig(t *testing.T) {
	tr, srvs, _, pol := poolServers(t, 1)
	pol.Pool[0].Weight = math.NaN()
	if _, _, err := post(t, tr, "http://caller.invalid"); err == nil || !strings.Contains(err.Error(), "Pool[0].Weight") {
		t.Fatalf("a NaN weight: err %v", err)
	}
	pol.Pool[0].Weight = 0
	pol.Pool[0].Model = "other"
	req, _ := http.NewRequest(http.MethodPost, "http://caller.invalid/v1/chat/completions", strings.NewReader("not json"))
	if _, err := tr.RoundTrip(req); err == nil || !errorsIs(err, errPoolFit) {
		t.Fatalf("a request that fits no target: err %v", err)
	}
	if n := len(srvs[0].Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	pol.Pool[0].Model = ""
	tr.MaxBodyBuffer = -1 // a body without GetBody cannot be sent again
	body := &countingBody{Reader: strings.NewReader(chatBody)}
	req, _ = http.NewRequest(http.MethodPost, "http://caller.invalid/v1/chat/completions", body)
	if _, err := tr.RoundTrip(req); !errorsIs(err, errPoolBody) || body.closes.Load() != 1 {
		t.Fatalf("a body that cannot be sent again: err %v, closed %d times", err, body.closes.Load())
	}
	tr.MaxBodyBuffer = 0
	body = &countingBody{Reader: strings.NewReader(chatBody)}
	req, _ = http.NewRequest(http.MethodPost, "http://caller.invalid/v1/chat/completions", body)
	if _, _, err := do(t, tr, req); err != nil {
		t.Fatal(err)
	}
	if n := body.closes.Load(); n != 1 {
		t.Fatalf("the caller's body closed %d times", n)
	}
}

// TestPoolConcurrent: many requests at once over a pool with a failing
// target, under -race: every request succeeds, on the healthy targets.
func TestPoolConcurrent(t *testing.T) {
	tr, srvs, _, _ := poolServers(t, 3)
	srvs[1].Respond(func(llmretrytest.Request) llmretrytest.Step { return llmretrytest.Dialect("openai").Overloaded(0) })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _, err := post(t, tr, "http://caller.invalid")
			if err == nil && resp.StatusCode != 200 {
				err = &requestError{msg: resp.Status}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(srvs[0].Requests()) + len(srvs[2].Requests()); n < 64 {
		t.Fatalf("%d requests on the healthy targets", n)
	}
}

// TestPoolNoOtherTarget: with no other target ready, a retry waits its hint
// or backoff as without a pool: a target alone, or every other one cooling,
// is not retried at once.
func TestPoolNoOtherTarget(t *testing.T) {
	tests := []struct {
		name    string
		targets int
		cool    bool // the other target is cooling down
	}{
		{"one target", 1, false},
		{"the other target cooling down", 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, srvs, ft, pol := poolServers(t, tc.targets)
			srvs[0].Enqueue(llmretrytest.Dialect("openai").RateLimit(2))
			if tc.cool {
				tr.pool(pol).saw(1, Verdict{Class: ClassOverloaded}, ft.Now())
				tr.pool(pol).members[1].cool = ft.Now().Add(time.Hour)
			}
			var targets []string
			tr.Observer = onAttempt(func(a AttemptInfo) { targets = append(targets, a.Target) })
			resp, _, err := post(t, tr, "http://caller.invalid")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("err %v, resp %v", err, resp)
			}
			if !slices.Equal(targets, []string{"t0", "t0"}) {
				t.Fatalf("attempts went to %v, want t0 twice", targets)
			}
			if w := ft.Waits(); !slices.Contains(w, 2*time.Second) {
				t.Fatalf("waits %v: the retry did not wait out the 2 s hint", w)
			}
		})
	}
}

// TestPoolCancelled: a request cancelled during its first attempt in a pool
// is not moved to another target; the caller's body is closed once and no
// attempt follows.
func TestPoolCancelled(t *testing.T) {
	ft := &fakeTime{now: time.Unix(1e9, 0)}
	ctx, cancel := context.WithCancel(bg())
	defer cancel()
	var mu sync.Mutex
	var hosts []string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		hosts = append(hosts, r.URL.Host)
		mu.Unlock()
		if r.Body != nil {
			r.Body.Close()
		}
		cancel()
		return response(503, nil, `{"error":{"type":"overloaded_error","message":"busy"}}`), nil
	})
	pol := &Policy{Name: "p", Pool: []Target{{Name: "a", BaseURL: "https://a.example"}, {Name: "b", BaseURL: "https://b.example"}}}
	tr := &Transport{Base: base, Policy: pol, seams: seams{now: ft.Now, sleep: ft.Sleep, rand: func() float64 { return 0.5 }}}
	body := &countingBody{Reader: strings.NewReader(chatBody)}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://own.example/v1/chat/completions", body)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	if len(hosts) != 1 || body.closes.Load() != 1 {
		t.Fatalf("attempts to %v, the caller's body closed %d times; want one attempt, one close", hosts, body.closes.Load())
	}
}

// TestPoolRetryWaitsForCooldown: with the other target cooling down for
// less than the failed one's hint, the retry waits for the cooldown's end
// and goes there.
func TestPoolRetryWaitsForCooldown(t *testing.T) {
	tr, srvs, ft, pol := poolServers(t, 2)
	srvs[0].Enqueue(llmretrytest.Dialect("openai").RateLimit(2))
	tr.pool(pol).saw(1, Verdict{Class: ClassOverloaded}, ft.Now()) // cools t1 for coolBase
	var targets []string
	tr.Observer = onAttempt(func(a AttemptInfo) { targets = append(targets, a.Target) })
	resp, _, err := post(t, tr, "http://caller.invalid")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("err %v, resp %v", err, resp)
	}
	if !slices.Equal(targets, []string{"t0", "t1"}) {
		t.Fatalf("attempts went to %v, want t0 then t1", targets)
	}
	if w := ft.Waits(); !slices.Contains(w, coolBase) || slices.Contains(w, 2*time.Second) {
		t.Fatalf("waits %v: want the other target's cooldown (%v), not the hint", w, coolBase)
	}
}

// TestPoolQuotaMovesOn: an exhausted quota is its target's key's, not the
// request's: the request moves at once to another ready target of the pool
// (it used to end with the quota error while another key had quota). With
// no other target ready, the quota error is the answer.
func TestPoolQuotaMovesOn(t *testing.T) {
	quota := llmretrytest.Dialect("openai").QuotaExhausted()
	tests := []struct {
		name   string
		n      int
		steps  [][]llmretrytest.Step // enqueued on each server
		want   []string              // targets attempted
		decs   []Decision
		wantOK bool
	}{
		{"another key has quota", 2, [][]llmretrytest.Step{{quota}}, []string{"t0", "t1"}, []Decision{DecisionRetry, DecisionSuccess}, true},
		{"every key out of quota", 2, [][]llmretrytest.Step{{quota}, {quota}}, []string{"t0", "t1"}, []Decision{DecisionRetry, DecisionNotRetryable}, false},
		{"a pool of one", 1, [][]llmretrytest.Step{{quota}}, []string{"t0"}, []Decision{DecisionNotRetryable}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, srvs, ft, _ := poolServers(t, tc.n)
			var targets []string
			var decs []Decision
			tr.Observer = onAttempt(func(a AttemptInfo) { targets, decs = append(targets, a.Target), append(decs, a.Decision) })
			for i, steps := range tc.steps {
				srvs[i].Enqueue(steps...)
			}
			resp, _, err := post(t, tr, "http://caller.invalid")
			if err != nil {
				t.Fatal(err)
			}
			if ok := resp.StatusCode == 200; ok != tc.wantOK {
				t.Fatalf("status %d, want success %v", resp.StatusCode, tc.wantOK)
			}
			if !slices.Equal(targets, tc.want) || !slices.Equal(decs, tc.decs) {
				t.Fatalf("attempts %v %v, want %v %v", targets, decs, tc.want, tc.decs)
			}
			if w := ft.Waits(); slices.ContainsFunc(w, func(d time.Duration) bool { return d > 0 }) {
				t.Fatalf("waited %v", w)
			}
		})
	}
}

// TestPoolManyPolicies: a Transport given a new Policy with a Pool per
// request (WithPolicy) keeps state only for those used recently: the
// derived policies of its targets used to be kept forever, two per request
// here.
func TestPoolManyPolicies(t *testing.T) {
	tr, srv, ft := setup(t, nil)
	const n, gap = 300, 10 * time.Second // a policy idle for pacerIdle is swept: 60 in use at a time
	for i := range n {
		pol := &Policy{Name: "per-request", Pool: []Target{
			{Name: "a", BaseURL: srv.URL, Header: http.Header{"Authorization": {"Bearer sk-a"}}},
			{Name: "b", BaseURL: srv.URL, Header: http.Header{"Authorization": {"Bearer sk-b"}}},
		}}
		req, err := http.NewRequestWithContext(WithPolicy(context.Background(), pol), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
		if err != nil {
			t.Fatal(err)
		}
		if resp, _, err := do(t, tr, req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
		_ = ft.Sleep(context.Background(), gap)
	}
	inUse := int(pacerIdle/gap) + 1
	if held := tr.pools.len() + tr.derived.len(); held > 3*inUse {
		t.Fatalf("%d pools and %d derived policies held after %d policies, %d in use", tr.pools.len(), tr.derived.len(), n, inUse)
	}
}

// TestPoolOwnKeyOnly: a target of a pool that sets its own credential
// (Header, no BaseURL: another key for the request's endpoint) gets none of
// the request's credentials in any other form. It used to get the
// request's query key, userinfo or other key header too, so that the
// provider could charge the request's key on every target.
func TestPoolOwnKeyOnly(t *testing.T) {
	type seen struct{ query, user, auth, goog, xkey, host string }
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _, _ := r.BasicAuth()
		mu.Lock()
		got = append(got, seen{r.URL.RawQuery, u, r.Header.Get("Authorization"), r.Header.Get("X-Goog-Api-Key"), r.Header.Get("X-Api-Key"), r.Host})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, llmretrytest.Completion)
	}))
	defer srv.Close()
	tests := []struct {
		name   string
		url    string            // the request's URL after the scheme and host
		header map[string]string // the request's headers
		target http.Header       // the pool target's own
	}{
		{"query key, target header", "/v1/chat?key=sk-request-1&alt=sse", nil, http.Header{"X-Goog-Api-Key": {"sk-own"}}},
		{"x-api-key, target Authorization", "/v1/chat", map[string]string{"X-Api-Key": "sk-request-1"}, http.Header{"Authorization": {"Bearer sk-own"}}},
		{"Authorization, target x-api-key", "/v1/chat", map[string]string{"Authorization": "Bearer sk-request-1"}, http.Header{"X-Api-Key": {"sk-own"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			tr := &Transport{Policy: &Policy{Name: "keys", Pool: []Target{{Name: "own", Header: tc.target}}}}
			req, err := http.NewRequest(http.MethodPost, srv.URL+tc.url, strings.NewReader(chatBody))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			req.Host = "api.example.invalid" // kept: the request's endpoint
			resp, _, err := do(t, tr, req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%v %v", resp, err)
			}
			if len(got) != 1 {
				t.Fatalf("%d requests", len(got))
			}
			if s := fmt.Sprint(got[0]); strings.Contains(s, "sk-request") || !strings.Contains(s, "sk-own") {
				t.Fatalf("the target got %+v: the request's key, or not its own", got[0])
			}
			if got[0].host != req.Host {
				t.Fatalf("Host %q, want %q", got[0].host, req.Host)
			}
			if tc.url != "/v1/chat" && got[0].query != "alt=sse" {
				t.Fatalf("query %q, want the request's other parameters", got[0].query)
			}
		})
	}
}
