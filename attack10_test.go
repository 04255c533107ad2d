package llmretry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// attack10Cfg is one big request's scenario for attack10Big.
type attack10Cfg struct {
	retries     int
	deadline    time.Duration // > 0: the big request's deadline, from its start
	base, maxD  time.Duration // the policy's BaseDelay and MaxDelay (0: the defaults)
	backoffMin  time.Duration // a sleep this long or longer is a backoff (a small request is sent in it); 0: 200 ms
	noSmall     bool          // no small request is sent during the backoffs: nothing wakes them
	concurrency int           // big requests at once (0: 1); each gets answer
	notWoken    time.Duration // real time a backoff waits to be woken before it is slept on the fake clock (0: 300 ms)
	// answer is the big request's n-th attempt's answer (1-based), sent at
	// at since its start: status, Retry-After ("" none), and how long the
	// answer takes to come (the fake clock advances by it).
	answer func(n int, at time.Duration) (status int, retryAfter string, took time.Duration)
}

// attack10Result is what attack10Big saw of the big request(s).
type attack10Result struct {
	status []int           // each big request's final status (0: an error)
	at     []time.Duration // the big requests' attempts, from the start
	took   time.Duration   // until the last RoundTrip returned
	small  int             // small requests sent meanwhile
}

// before is how many of the big requests' attempts went before d.
func (r attack10Result) before(d time.Duration) int {
	n := 0
	for _, at := range r.at {
		if at < d {
			n++
		}
	}
	return n
}

func (r attack10Result) ok() int {
	n := 0
	for _, s := range r.status {
		if s == http.StatusOK {
			n++
		}
	}
	return n
}

// attack10Big is attack9Big (attack9_test.go) generalized: the key is paced by
// a fleet's estimate (fleetEstimator, 20/s, measured); the big request's
// attempts get cfg.answer; 50 ms into each of its backoffs (sleeps of
// cfg.backoffMin or more) a small request of the key is sent and accepted,
// which may wake it. Time is fake; a wake is seen at once in real time, a
// backoff not woken is slept after cfg.notWoken of real time.
func attack10Big(t *testing.T, cfg attack10Cfg) attack10Result {
	t.Helper()
	pol := genericPolicy()
	pol.MaxRetries = cfg.retries
	pol.BaseDelay, pol.MaxDelay = cfg.base, cfg.maxD
	pol.Limits.Limiter = &fleetEstimator{rate: 20, cutTo: 20, measured: true}
	if cfg.backoffMin == 0 {
		cfg.backoffMin = 200 * time.Millisecond
	}
	if cfg.notWoken == 0 {
		cfg.notWoken = 300 * time.Millisecond
	}
	n := max(cfg.concurrency, 1)
	ft := &fakeTime{now: time.Now().Add(time.Hour)}
	var mu sync.Mutex
	start := ft.Now()
	var res attack10Result
	tries := map[string]int{}
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		id := r.Header.Get("X-Big")
		if id == "" {
			return response(http.StatusOK, nil, attack7OK), nil
		}
		at := ft.Now().Sub(start)
		mu.Lock()
		res.at = append(res.at, at)
		tries[id]++
		k := tries[id]
		mu.Unlock()
		st, ra, took := cfg.answer(k, at)
		if took > 0 {
			ft.Sleep(context.Background(), took)
		}
		var h http.Header
		if ra != "" {
			h = http.Header{"Retry-After": {ra}}
		}
		body := attack7OK
		switch {
		case st == http.StatusTooManyRequests:
			body = attack7429
		case st >= 500:
			body = `{"error":{"message":"server error","type":"server_error"}}`
		}
		return response(st, h, body), nil
	})
	tr := &Transport{Base: base, Policy: pol}
	tr.seams = seams{now: ft.Now, rand: func() float64 { return 0.5 }}
	// With one big request, a small request's own waits (a pause after a
	// hinted 429) are not backoffs: each would send another small request.
	var smallSending atomic.Bool
	tr.seams.sleep = func(ctx context.Context, d time.Duration) error {
		if d < cfg.backoffMin || cfg.noSmall || smallSending.Load() { // a pacing wait, not a backoff
			return ft.Sleep(ctx, d)
		}
		pre := min(50*time.Millisecond, d/4)
		ft.Sleep(context.Background(), pre)
		mu.Lock()
		res.small++
		mu.Unlock()
		smallSending.Store(n == 1)
		st := attack7Post(t, tr, context.Background(), false)
		smallSending.Store(false)
		if st != http.StatusOK {
			t.Errorf("the small request: status %d", st)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.notWoken):
			return ft.Sleep(ctx, d-pre)
		}
	}
	for range 5 {
		attack7Post(t, tr, context.Background(), false)
	}
	ctx := context.Background()
	start = ft.Now()
	if cfg.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, start.Add(cfg.deadline))
		defer cancel()
	}
	res.status = make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.attack7.test/v1/chat/completions", strings.NewReader(chatBody))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer sk-attack7")
			req.Header.Set("X-Big", fmt.Sprint(i+1))
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				res.status[i] = resp.StatusCode
			}
		}()
	}
	wg.Wait()
	res.took = ft.Now().Sub(start)
	mu.Lock()
	defer mu.Unlock()
	return res
}

// openaiGo simulates openai-go's plain retries (v3 retryDelay: 0.5 s·2^n,
// at most 8 s, less jitter·a quarter; a Retry-After of up to 60 s is
// honoured; each sleep follows the previous answer; it sleeps into the
// deadline) with jitter j in [0, 1]: the final status (0: the deadline
// ended it) and the attempts' times.
func openaiGo(cfg attack10Cfg, j float64) (int, []time.Duration) {
	var at []time.Duration
	now := time.Duration(0)
	for n := 1; ; n++ {
		if cfg.deadline > 0 && now >= cfg.deadline {
			return 0, at
		}
		at = append(at, now)
		st, ra, took := cfg.answer(n, now)
		now += took
		if st < 400 || n > cfg.retries {
			return st, at
		}
		var d time.Duration
		var secs int
		if _, err := fmt.Sscan(ra, &secs); ra != "" && err == nil && secs > 0 && secs <= 60 {
			d = time.Duration(secs) * time.Second
		} else {
			step := min(500*time.Millisecond<<(n-1), 8*time.Second)
			d = time.Duration(float64(step) * (1 - j/4))
		}
		now += d
	}
}

// refusedUntil answers the big request with a bare 429 while it is younger
// than refused, each answer taking took, and accepts it after.
func refusedUntil(refused, took time.Duration) func(int, time.Duration) (int, string, time.Duration) {
	return func(_ int, at time.Duration) (int, string, time.Duration) {
		if at < refused {
			return http.StatusTooManyRequests, "", took
		}
		return http.StatusOK, "", took
	}
}

// attack10Log logs cfg's run beside openai-go's at both ends of its jitter
// (the explore tests: a backoff not woken within 100 ms is slept).
func attack10Log(t *testing.T, name string, cfg attack10Cfg) {
	t.Helper()
	cfg.notWoken = 100 * time.Millisecond
	r := attack10Big(t, cfg)
	g0, a0 := openaiGo(cfg, 0)
	g1, a1 := openaiGo(cfg, 1)
	t.Logf("%s: status %v took %v attempts %v (%d) | openai-go j=0: %d %v; j=1: %d %v", name, r.status, r.took.Round(time.Millisecond), r.at, len(r.at), g0, a0, g1, a1)
}

// TestAttack10Explore logs the scenarios of attack 10 (ATTACK10_EXPLORE=1).
func TestAttack10Explore(t *testing.T) {
	if os.Getenv("ATTACK10_EXPLORE") == "" {
		t.Skip("ATTACK10_EXPLORE=1 runs it")
	}
	// 1. Slow answers: each 429 takes took.
	for _, retries := range []int{1, 2, 3, 4, 5, 10} {
		for _, took := range []time.Duration{0, 300 * time.Millisecond, time.Second, 3 * time.Second} {
			for _, refused := range []time.Duration{500 * time.Millisecond, time.Second, 3 * time.Second, 5 * time.Second, 8 * time.Second, 12 * time.Second} {
				for _, dl := range []time.Duration{0, 10 * time.Second} {
					attack10Log(t, fmt.Sprintf("slow retries %d took %v refused %v deadline %v", retries, took, refused, dl),
						attack10Cfg{retries: retries, deadline: dl, answer: refusedUntil(refused, took)})
				}
			}
		}
	}
}

// TestAttack10Explore2 logs hinted 429s, 5xx after wakes, custom delays and
// concurrent self-refused requests (ATTACK10_EXPLORE2=1).
func TestAttack10Explore2(t *testing.T) {
	if os.Getenv("ATTACK10_EXPLORE2") == "" {
		t.Skip("ATTACK10_EXPLORE2=1 runs it")
	}
	for _, retries := range []int{2, 3, 4, 6} {
		for _, refused := range []time.Duration{time.Second, 3 * time.Second, 6 * time.Second} {
			for _, hintAt := range []int{2, 3} {
				attack10Log(t, fmt.Sprintf("hint2s retries %d at %d refused %v", retries, hintAt, refused), attack10Cfg{retries: retries,
					answer: func(n int, at time.Duration) (int, string, time.Duration) {
						if at >= refused {
							return 200, "", 0
						}
						if n == hintAt {
							return 429, "2", 0
						}
						return 429, "", 0
					}})
			}
			attack10Log(t, fmt.Sprintf("5xx retries %d refused %v", retries, refused), attack10Cfg{retries: retries,
				answer: func(n int, at time.Duration) (int, string, time.Duration) {
					if at >= refused {
						return 200, "", 0
					}
					if n <= 2 {
						return 429, "", 0
					}
					return 503, "", 0
				}})
			for _, d := range []struct {
				name             string
				base, maxD, bmin time.Duration
			}{
				{"base10ms", 10 * time.Millisecond, 0, 4 * time.Millisecond},
				{"base2s", 2 * time.Second, 0, 0},
				{"base20s", 20 * time.Second, 0, 0},
				{"base2s-max1s", 2 * time.Second, time.Second, 0},
				{"base100ms-max400ms", 100 * time.Millisecond, 400 * time.Millisecond, 40 * time.Millisecond},
			} {
				attack10Log(t, fmt.Sprintf("%s retries %d refused %v", d.name, retries, refused), attack10Cfg{retries: retries,
					base: d.base, maxD: d.maxD, backoffMin: d.bmin, answer: refusedUntil(refused, 0)})
			}
		}
	}
}

// TestAttack10Concurrent logs K self-refused requests at once (ATTACK10_CONC=1).
func TestAttack10Concurrent(t *testing.T) {
	if os.Getenv("ATTACK10_CONC") == "" {
		t.Skip("ATTACK10_CONC=1 runs it")
	}
	for _, retries := range []int{1, 2, 4, 10} {
		for _, refused := range []time.Duration{time.Second, 3 * time.Second} {
			for _, dl := range []time.Duration{0, 5 * time.Second} {
				r := attack10Big(t, attack10Cfg{retries: retries, deadline: dl, concurrency: 8, notWoken: 100 * time.Millisecond, answer: refusedUntil(refused, 0)})
				t.Logf("conc8 retries %d refused %v deadline %v: ok %d/8 took %v attempts %d small %d", retries, refused, dl, r.ok(), r.took.Round(time.Millisecond), len(r.at), r.small)
			}
		}
	}
}

// Attack 10, finding 1: sdkFloor counts an SDK's schedule from the first
// attempt's start with no time for the answers, where an SDK (and main's
// backoff) sleeps after each answer. With slow 429s (1 s each: a proxy's
// queue, a server that reads the prompt before refusing it) the floor is
// already past when the retry after the wake is decided, and the retry
// waits only the paced step. MaxRetries 2 (the default), the big request
// refused for 3 s: lastpay's attempts at 0, 1.05 s (woken), 2.8 s: 429.
// main (c75c6b5): 0, 1.05 s, 3.125 s (doubled step + the rest of the
// skipped backoff): 200 at 4.125 s. openai-go: 0, 1.375–1.5 s,
// 3.125–3.5 s: 200 whatever its jitter.
func TestAttack10SlowAnswersPutFloorInPast(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 2, answer: refusedUntil(3*time.Second, time.Second)})
	if r.ok() != 1 {
		t.Errorf("status %v after %v, attempts at %v; want 200: main's last attempt goes at 3.125 s, openai-go's at 3.125–3.5 s, both after the refusal", r.status, r.took, r.at)
	}
}

// Attack 10, finding 2: after two wakes, retry k (k < MaxRetries) keeps the
// SDK's retry k−1 and the last keeps the SDK's last: the SDK's retry
// MaxRetries−1 is skipped. MaxRetries 5, fast bare 429s for 5 s: lastpay's
// attempts at 0, 50 ms, 100 ms (woken), 1.31 s, 3.06 s, then 13.56 s (the
// SDK's sixth attempt's time): 200 at 13.56 s. main: 200 at 5.625 s;
// openai-go: its fifth attempt at 5.625–7.5 s, 200.
func TestAttack10LastRetrySkipsAnSDKRetry(t *testing.T) {
	r := attack10Big(t, attack10Cfg{retries: 5, answer: refusedUntil(5*time.Second, 0)})
	if r.ok() != 1 || r.took > 8*time.Second {
		t.Errorf("status %v after %v, attempts at %v; want 200 by 8 s: main 5.625 s, openai-go 5.625–7.5 s", r.status, r.took, r.at)
	}
}
