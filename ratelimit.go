package llmretry

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// configuredHeadroom is the share of a configured rate that is used: sending
// exactly at the provider's limit turns any network jitter into 429s.
const configuredHeadroom = 0.99

// Limits configures client-side pacing for a [Policy]: the provider's limits
// for one API key, so that requests wait here instead of earning 429s. Pacing
// is kept per key: a host and a credential.
//
// The zero value configures no limit; the Transport then learns each key's
// pace from the provider's rate-limit headers, or from the rate it accepts
// while it answers 429s, and pauses all requests on a key when the server
// asks for a wait (see [Transport]). A wait that a configured limit imposes
// beyond the request's deadline fails it at once with [ErrDeadline]; a
// learned pace is a guess and never fails a request: it holds one for
// MaxWait at most, and never past its deadline. A configured limit is
// trusted: a 429 under it pauses the key as the server asks and is retried,
// but does not lower the pace.
type Limits struct {
	// RequestsPerMinute paces requests; 0 means no configured limit.
	// Requests are sent at 99% of the configured rates (and 97% of learned
	// ones), and bursts are a tenth smaller (at least one less, but never
	// below 1), so that network jitter does not turn into 429s.
	RequestsPerMinute float64
	// RequestBurst is how many requests may go at once after a quiet spell.
	// If zero, a second's worth of RequestsPerMinute (at least 1).
	RequestBurst int

	// TokensPerMinute paces tokens, as estimated by Cost; 0 means none.
	TokensPerMinute float64
	// TokenBurst is the token bucket's size. If zero, ten seconds' worth of
	// TokensPerMinute. A request that costs more waits for a full bucket.
	TokenBurst int

	// MaxInFlight caps the requests on one key awaiting their response
	// (until the response body is closed); 0 means no cap.
	MaxInFlight int

	// Cost estimates a request's tokens from its method, URL and body; nil
	// means [EstimateTokens]. It is called only when tokens are paced.
	Cost func(req *http.Request, body []byte) int

	// Limiter keeps the buckets. If nil, each Transport keeps its own in
	// memory; a shared one (see the redislimit module) paces many
	// processes that share one API key.
	Limiter Limiter

	// DisableLearning turns off learning limits from rate-limit headers and
	// the estimate after 429s. The pauses a server asks for (a 429 with a
	// wait hint, a limit with nothing left and a reset) still apply.
	//
	// Pacing state is kept per key while it is used: a key idle for 10
	// minutes is forgotten, so that a Transport serving ever new API keys
	// (a multi-tenant proxy) holds about 0.4–1.7 KB for each key used in the
	// last 10 to 20 minutes, and at most twice that many keys.
	DisableLearning bool
}

// Limit is the pace a [Limiter] enforces for one key. A zero or negative
// rate means that dimension is not limited.
type Limit struct {
	RequestRate  rate.Limit // requests per second
	RequestBurst int
	TokenRate    rate.Limit // tokens per second
	TokenBurst   int
}

// limit turns the configured Limits into a Limit.
func (l *Limits) limit() Limit {
	var lim Limit
	if l.RequestsPerMinute > 0 {
		lim.RequestRate = rate.Limit(l.RequestsPerMinute / 60 * configuredHeadroom)
		lim.RequestBurst = l.RequestBurst
		if lim.RequestBurst <= 0 {
			lim.RequestBurst = max(1, int(l.RequestsPerMinute/60))
		}
		lim.RequestBurst = burstHeadroom(lim.RequestBurst)
	}
	if l.TokensPerMinute > 0 {
		lim.TokenRate = rate.Limit(l.TokensPerMinute / 60 * configuredHeadroom)
		lim.TokenBurst = l.TokenBurst
		if lim.TokenBurst <= 0 {
			lim.TokenBurst = max(1, int(l.TokensPerMinute/6))
		}
		lim.TokenBurst = burstHeadroom(lim.TokenBurst)
	}
	return lim
}

// burstHeadroom keeps a request burst one token (or a tenth) below the
// provider's, as a cushion for requests that reach it out of step.
func burstHeadroom(b int) int {
	return max(1, b-max(1, b/10))
}

// A Limiter keeps the token buckets and cooldowns of pacing keys. A key names
// a provider and a credential (a hash of it, never the credential itself).
// Implementations must be safe for simultaneous use by multiple goroutines.
type Limiter interface {
	// Wait blocks until one request costing tokens may be sent under key at
	// limit, and until any pause of key has ended. It returns ctx's error if
	// ctx ends first, having given back what it reserved, and an error
	// matching ErrDeadline, without waiting, if the wait cannot end before
	// ctx's deadline.
	Wait(ctx context.Context, key string, limit Limit, tokens int) error
	// Pause holds every request under key until until (the provider's
	// reset time), and empties its buckets so that waiting requests are
	// released at the paced rate afterwards, not all at once.
	Pause(ctx context.Context, key string, until time.Time) error
}

// MemoryLimiter is a [Limiter] that keeps its buckets in memory, built on
// golang.org/x/time/rate. Its zero value is ready to use. It is safe for
// simultaneous use by multiple goroutines. It keeps nothing for a key that
// was never paced or paused, and forgets a key's buckets 10 minutes after
// they were last needed.
type MemoryLimiter struct {
	buckets lazyMap[string, buckets]

	// Test seams, set by a Transport for its own limiter; nil means real time.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func (m *MemoryLimiter) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

func (m *MemoryLimiter) wait(ctx context.Context, d time.Duration) error {
	if m.sleep != nil {
		return m.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// buckets is the state of one key.
type buckets struct {
	mu     sync.Mutex // guards all fields
	req    *rate.Limiter
	tok    *rate.Limiter
	paused time.Time
	busy   time.Time // when the last reservation is due: until then the key is in use
}

// limiterIdle is how long a MemoryLimiter keeps a key's buckets after they
// were last needed: a full bucket left alone is the same as none.
const limiterIdle = 10 * time.Minute

// idle reports whether b holds nothing at now: no pause, no reservation,
// none of either for limiterIdle.
func (b *buckets) idle(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Sub(b.busy) > limiterIdle && now.Sub(b.paused) > limiterIdle
}

var _ Limiter = (*MemoryLimiter)(nil)

func (m *MemoryLimiter) get(key string) *buckets {
	if b, ok := m.buckets.load(key); ok {
		return b
	}
	now := m.clock()
	return m.buckets.loadOrStore(key, func() *buckets {
		return &buckets{req: rate.NewLimiter(rate.Inf, 1), tok: rate.NewLimiter(rate.Inf, 1)}
	}, func(b *buckets) bool { return b.idle(now) }, now)
}

// Wait implements Limiter.
func (m *MemoryLimiter) Wait(ctx context.Context, key string, limit Limit, tokens int) error {
	if limit.RequestRate <= 0 && limit.TokenRate <= 0 {
		// Nothing to pace: only a pause can hold the request, and a key
		// that was never paused needs no buckets.
		b, ok := m.buckets.load(key)
		if !ok {
			return nil
		}
		return m.waitPause(ctx, b)
	}
	b := m.get(key)
	for {
		now := m.clock()
		maxDelay := time.Duration(math.MaxInt64)
		if deadline, ok := ctx.Deadline(); ok {
			maxDelay = deadline.Sub(now)
		}
		delay, took, cancel := b.reserve(now, limit, tokens, maxDelay)
		if delay <= 0 {
			return nil
		}
		if !took && delay > maxDelay {
			return fmt.Errorf("%w (needs %v)", ErrDeadline, delay.Round(time.Millisecond))
		}
		if err := m.wait(ctx, delay); err != nil {
			if cancel != nil {
				cancel(m.clock())
			}
			return err
		}
		if !took {
			continue // waited out a pause: now take a token
		}
		return nil
	}
}

// waitPause waits out b's pause, if any.
func (m *MemoryLimiter) waitPause(ctx context.Context, b *buckets) error {
	now := m.clock()
	b.mu.Lock()
	d := b.paused.Sub(now)
	b.mu.Unlock()
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(d).After(deadline) {
		return fmt.Errorf("%w (needs %v)", ErrDeadline, d.Round(time.Millisecond))
	}
	return m.wait(ctx, d)
}

// reserve takes a request token and tokens from b's buckets at now, unless
// the wait for them would exceed maxDelay: then it takes nothing, so that a
// waiter that gives up leaves the queue as it was (cancelling a reservation
// that later ones queued behind gives back nothing, and the bucket would
// lose its capacity). It returns how long to wait, whether it took the
// tokens, and a func that gives them back (nil when it took none or there
// is nothing to give). A pause takes nothing and returns its end.
func (b *buckets) reserve(now time.Time, limit Limit, tokens int, maxDelay time.Duration) (delay time.Duration, took bool, cancel func(time.Time)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.paused) {
		return b.paused.Sub(now), false, nil
	}
	if limit.RequestRate <= 0 && limit.TokenRate <= 0 {
		return 0, true, nil // nothing to pace: no reservation, no allocation
	}
	b.busy = maxTime(b.busy, now)
	setLimit(&b.req, now, limit.RequestRate, limit.RequestBurst)
	setLimit(&b.tok, now, limit.TokenRate, limit.TokenBurst)
	req, tok := b.req, b.tok
	n := min(max(tokens, 1), tok.Burst())
	// Fast path, without allocation: both buckets have the tokens now. b.mu
	// makes the check and the take one step.
	if req.TokensAt(now) >= 1 && tok.TokensAt(now) >= float64(n) {
		req.AllowN(now, 1)
		tok.AllowN(now, n)
		return 0, true, nil
	}
	if d := max(shortfall(req, now, 1), shortfall(tok, now, n)); d > maxDelay {
		return d, false, nil
	}
	r1 := req.ReserveN(now, 1)
	r2 := tok.ReserveN(now, n)
	delay = max(r1.DelayFrom(now), r2.DelayFrom(now))
	if delay > maxDelay {
		r1.CancelAt(now) // the last reservations: all is given back
		r2.CancelAt(now)
		return delay, false, nil
	}
	b.busy = maxTime(b.busy, now.Add(delay))
	return delay, true, func(at time.Time) {
		b.mu.Lock()
		defer b.mu.Unlock()
		r1.CancelAt(at)
		r2.CancelAt(at)
	}
}

// shortfall is how long l needs at now to hold n tokens: the delay ReserveN
// would give, without reserving.
func shortfall(l *rate.Limiter, now time.Time, n int) time.Duration {
	if l.Limit() == rate.Inf {
		return 0
	}
	missing := float64(n) - l.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	if s := missing / float64(l.Limit()); s < maxPlausibleHint.Seconds() {
		return time.Duration(s * float64(time.Second))
	}
	return rate.InfDuration // a rate so slow (a hostile header's) that no wait ends
}

// setLimit applies a rate and burst to *l; r ≤ 0 means none. A bucket that
// was unlimited starts full at its new limit.
func setLimit(l **rate.Limiter, now time.Time, r rate.Limit, burst int) {
	if r <= 0 || math.IsInf(float64(r), 1) {
		r, burst = rate.Inf, 1
	}
	burst = max(burst, 1)
	cur := *l
	if cur.Limit() == rate.Inf && r != rate.Inf {
		*l = rate.NewLimiter(r, burst)
		return
	}
	if cur.Limit() != r {
		cur.SetLimitAt(now, r)
	}
	if cur.Burst() != burst {
		cur.SetBurstAt(now, burst)
	}
}

// Pause implements Limiter.
func (m *MemoryLimiter) Pause(_ context.Context, key string, until time.Time) error {
	m.get(key).pause(m.clock(), until)
	return nil
}

func (b *buckets) pause(now, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !until.After(b.paused) {
		return
	}
	b.paused = until
	// Empty the buckets: they refill during the pause at their rate, so at
	// most the refilled tokens go at once when it ends.
	for _, l := range [...]*rate.Limiter{b.req, b.tok} {
		if l.Limit() != rate.Inf {
			if n := int(l.TokensAt(now)); n > 0 {
				l.ReserveN(now, n)
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
