package llmretry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func TestPacingConfiguredLimit(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, &Policy{Limits: Limits{RequestsPerMinute: 600, RequestBurst: 1}})
	for i := 0; i < 5; i++ {
		if _, _, err := post(t, tr, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	step := paced(100 * time.Millisecond)
	want := []time.Duration{step, step, step, step}
	if got := ft.Waits(); !nearDurations(got, want) {
		t.Errorf("waits = %v, want %v (600/min at 99%%, burst 1)", got, want)
	}
}

func TestPacingKeysAreSeparate(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, &Policy{Limits: Limits{RequestsPerMinute: 60, RequestBurst: 1}})
	send := func(key string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))
		req.Header.Set("Authorization", "Bearer "+key)
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
	}
	send("sk-one")
	send("sk-two")
	if got := ft.Waits(); len(got) != 0 {
		t.Errorf("waits = %v: two API keys must not share a bucket", got)
	}
	send("sk-one")
	if got, want := ft.Waits(), []time.Duration{paced(time.Second)}; !nearDurations(got, want) {
		t.Errorf("waits = %v, want %v for the second request on sk-one", got, want)
	}
}

func TestPacingKeyHidesCredential(t *testing.T) {
	t.Parallel()
	k := pacingKey(gptGobPolicy(), "api.example.com", "Bearer sk-very-secret-value", "")
	if strings.Contains(k, "secret") || !strings.HasPrefix(k, "gptgob:api.example.com:") {
		t.Errorf("pacing key %q must name the policy and host and hide the credential", k)
	}
	if k != pacingKey(gptGobPolicy(), "api.example.com", "Bearer sk-very-secret-value", "") || k == pacingKey(gptGobPolicy(), "api.example.com", "Bearer other", "") ||
		k == pacingKey(gptGobPolicy(), "other.example.com", "Bearer sk-very-secret-value", "") {
		t.Error("pacing keys must be stable per host and credential and differ between them")
	}
}

// TestPacingSharedCooldown: a 429 with a hint pauses every request on the
// key, not only the one that got it.
func TestPacingSharedCooldown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		step llmretrytest.Step
		want time.Duration
	}{
		{"429 with retry_after", llmretrytest.Dialect("gptgob").RateLimit(2), 2 * time.Second},
		{"200 with X-RateLimit-Remaining-Requests: 0", llmretrytest.Step{Status: 200, Body: []byte(llmretrytest.Completion),
			Header: http.Header{"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Reset-Requests": {"3s"}}}, 200 * time.Millisecond}, // full in 2–3 s ("3s" is whole seconds), paced at the rate learned: one request back in 0.2 s
		{"Cencori 429 with X-RateLimit-Remaining: 0", llmretrytest.Step{Status: 429, Body: []byte(`{"error":"x","code":"RATE_LIMIT_EXCEEDED","status":429}`),
			Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Reset": {"4"}}}, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, gptGobPolicy())
			srv.Enqueue(tt.step)
			// The first caller does not retry; the second must still wait out the cooldown.
			req, _ := http.NewRequestWithContext(sendOnce(bg()), http.MethodPost, srv.URL, strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234") // the key post uses
			if _, _, err := do(t, tr, req); err != nil {
				t.Fatal(err)
			}
			if _, _, err := post(t, tr, srv.URL); err != nil {
				t.Fatal(err)
			}
			if got := ft.Waits(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("waits = %v, want [%v] before the second request", got, tt.want)
			}
		})
	}
}

func TestPacingMaxInFlight(t *testing.T) {
	t.Parallel()
	srv, peak := peakServer(t, 5*time.Millisecond)
	tr := &Transport{Base: &http.Transport{}, Policy: &Policy{Limits: Limits{MaxInFlight: 2}}}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := post(t, tr, srv.URL); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := peak.Load(); got > 2 || got < 1 {
		t.Errorf("peak concurrency at the server = %d, want ≤ 2", got)
	}
}

func TestPacingDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, &Policy{Limits: Limits{RequestsPerMinute: 1, RequestBurst: 1}})
	if _, _, err := post(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := timeoutCtx(5 * time.Second)
	defer cancel()
	body := &countingBody{Reader: strings.NewReader(chatBody)}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, body)
	req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234") // the key post uses
	_, err := tr.RoundTrip(req)
	if !errorsIs(err, ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline: the next slot is a minute away, the deadline 5 s", err)
	}
	if len(ft.Waits()) != 0 || len(srv.Requests()) != 1 || body.closes.Load() != 1 {
		t.Errorf("waits %v, requests %d, body closed %d times; want no wait, no request, body closed once",
			ft.Waits(), len(srv.Requests()), body.closes.Load())
	}
}

func TestEstimateTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want int
	}{
		{`{"model":"m","messages":[{"role":"user","content":"12345678"}],"max_tokens":100}`, 4 + 2 + 100},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:..."}}]}],"max_completion_tokens":10}`, 4 + 1 + 765 + 10}, // an image part counts 765,
		{`{"prompt":"abcdefgh","max_tokens":5}`, 2 + 5},
		{`{"input":["abcd","efgh"]}`, 2},
		{`not json at all`, 4},
		{``, 1},
		{`{"max_tokens":-50}`, 1},
		{`{"max_tokens":99999999999999}`, 1 << 30},
	}
	for _, tt := range tests {
		if got := EstimateTokens([]byte(tt.body)); got != tt.want {
			t.Errorf("EstimateTokens(%s) = %d, want %d", tt.body, got, tt.want)
		}
	}
}

func TestPacingTokenCost(t *testing.T) {
	t.Parallel()
	tr, srv, ft := setup(t, &Policy{Limits: Limits{TokensPerMinute: 6000, TokenBurst: 110}})
	for i := 0; i < 2; i++ { // chatBody costs 4 + 2 + 16 = 22 tokens
		if _, _, err := post(t, tr, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if w := ft.Waits(); len(w) != 0 {
		t.Errorf("waits = %v, want none: 44 tokens fit the 110-token burst", w)
	}
	tr.Policy.Limits.Cost = func(*http.Request, []byte) int { return 100 }
	post(t, tr, srv.URL)
	// The 110-token burst less a tenth is 99: 55 left, and the request's 100
	// tokens, capped at the burst, need 44 more at 99 tokens/s.
	if got, want := ft.Waits(), []time.Duration{paced(440 * time.Millisecond)}; !nearDurations(got, want) {
		t.Errorf("waits = %v, want %v: 99 tokens with 55 left at 99 tokens/s", got, want)
	}
}

// paced is how long a wait of d at a configured rate takes with the headroom.
func paced(d time.Duration) time.Duration { return time.Duration(float64(d) / configuredHeadroom) }

func nearDurations(got, want []time.Duration) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if diff := got[i] - want[i]; diff < -10*time.Microsecond || diff > 10*time.Microsecond {
			return false
		}
	}
	return true
}

// peakServer is a fake provider that takes d to answer and records the most
// requests it ever had in flight at once.
func peakServer(t *testing.T, d time.Duration) (*llmretrytest.Server, *atomic.Int32) {
	var inflight, peak atomic.Int32
	srv := llmretrytest.Start(t)
	srv.Respond(func(llmretrytest.Request) llmretrytest.Step {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(d)
		return llmretrytest.Step{}
	})
	return srv, &peak
}

func TestCredentialLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    http.Header
		want string
	}{
		{http.Header{"Authorization": {"Bearer a"}}, "Bearer a"},
		{http.Header{"X-Api-Key": {"b"}}, "b"},
		{http.Header{"authorization": {"Bearer set-by-hand"}}, "Bearer set-by-hand"},
		{http.Header{"Content-Type": {"application/json"}}, ""},
	}
	for _, tt := range tests {
		if got := credential(tt.h); got != tt.want {
			t.Errorf("credential(%v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}

// pausedLimiter is a shared Limiter (as redislimit is) holding a pause that
// another process asked for: its Wait fails for a deadline the pause
// outlasts.
type pausedLimiter struct{ waits atomic.Int32 }

func (l *pausedLimiter) Wait(ctx context.Context, _ string, _ Pace, _ int) error {
	l.waits.Add(1)
	if _, ok := ctx.Deadline(); ok {
		return fmt.Errorf("%w: needs 4s", ErrDeadline)
	}
	return nil
}
func (*pausedLimiter) Pause(context.Context, string, time.Time) error { return nil }

// A pause shared through a Limiter, on a key with no configured rate, is
// treated as the key's own pause is: a request whose deadline it outlasts
// goes (and gets the server's answer) rather than failing with ErrDeadline.
func TestPacingSharedPauseNeverFailsForDeadline(t *testing.T) {
	t.Parallel()
	lim := &pausedLimiter{}
	tr, srv, _ := setup(t, &Policy{Limits: Limits{Limiter: lim}})
	ctx, cancel := context.WithTimeout(bg(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(chatBody))
	if _, _, err := do(t, tr, req); err != nil {
		t.Fatalf("err = %v, want the request sent", err)
	}
	if lim.waits.Load() == 0 || len(srv.Requests()) != 1 {
		t.Errorf("limiter waits %d, requests %d: want the shared limiter asked, then the request sent", lim.waits.Load(), len(srv.Requests()))
	}
}

// paceRecorder is a Limiter that records the last Pace it was asked for.
type paceRecorder struct {
	mu   sync.Mutex
	last Pace
}

func (l *paceRecorder) Wait(_ context.Context, _ string, lim Pace, _ int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = lim
	return nil
}
func (*paceRecorder) Pause(context.Context, string, time.Time) error { return nil }

// A Limiter shared by processes (redislimit) is told what a pace is: the
// key's limit (configured, or announced by headers) or this process's own
// estimate of its share, and whether the key learns at all; a fleet paces
// the key at the sum of its shares, never at one process's.
func TestPaceTellsLimiterWhatItIs(t *testing.T) {
	t.Parallel()
	bucket := http.Header{"X-Ratelimit-Limit-Requests": {"10"}, "X-Ratelimit-Remaining-Requests": {"9"}, "X-Ratelimit-Reset-Requests": {"100ms"}}
	for _, tt := range []struct {
		name               string
		limits             Limits
		learn              func(p *pacer)
		rate               bool // a request rate is passed
		learned, estimated bool
	}{
		{"zero config, nothing learned yet", Limits{}, func(*pacer) {}, false, true, false},
		{"zero config, an estimate after 429s: this process's share", Limits{}, func(p *pacer) {
			observeAt(p, ok200(nil), testNow)
			observeAt(p, limited(nil), testNow)
		}, true, true, true},
		{"zero config, the key's limit from headers", Limits{}, func(p *pacer) { observeAt(p, ok200(bucket), testNow) }, true, true, false},
		{"configured", Limits{RequestsPerMinute: 600}, func(p *pacer) {
			observeAt(p, ok200(nil), testNow)
			observeAt(p, limited(nil), testNow)
		}, true, false, false},
		{"learning off", Limits{DisableLearning: true}, func(p *pacer) { observeAt(p, limited(nil), testNow) }, false, false, false},
		{"tokens configured: requests learned, the rates are no share", Limits{TokensPerMinute: 60_000}, func(p *pacer) {
			observeAt(p, ok200(nil), testNow)
			observeAt(p, limited(nil), testNow)
		}, false, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &paceRecorder{}
			pol := genericPolicy()
			pol.Limits = tt.limits
			pol.Limits.Limiter = rec
			p, ft := testPacer(pol)
			tt.learn(p)
			if err := p.acquire(bg(), 1, ft.Now()); err != nil {
				t.Fatal(err)
			}
			got := rec.last
			if (got.RequestRate > 0) != tt.rate || got.Learned != tt.learned || got.Estimated != tt.estimated {
				t.Errorf("the Limiter got %+v, want a request rate %v, Learned %v, Estimated %v", got, tt.rate, tt.learned, tt.estimated)
			}
		})
	}
}
