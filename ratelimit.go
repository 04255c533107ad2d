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
// is kept per key: a host and a credential, and, when no limit is configured,
// the request's model.
//
// The zero value configures no limit; the Transport then learns each key's
// pace from the provider's rate-limit headers, or from the rate it accepts
// while it answers 429s, and pauses all requests on a key when the server
// asks for a wait (see [Transport]). Providers limit each model separately,
// so with no RequestsPerMinute, TokensPerMinute or MaxInFlight the key also
// names the model: the body's top-level "model" string, or where the body
// names none, the model in the URL path (Gemini's and Vertex AI's
// models/<model>:<method>, Bedrock's /model/<id>/, Azure OpenAI's
// deployments/<name>/). One model's 429s, learned pace and pauses then hold
// only its own requests. A configured limit is what the operator says the
// API key allows, whatever the model: one key paces all of its models (give
// each model a policy of its own, through WithPolicy, to pace them apart). A wait that a configured limit imposes
// beyond the request's deadline fails it at once with [ErrDeadline]; a
// learned pace is a guess and never fails a request: it holds one for
// MaxWait at most, and never past its deadline. A configured limit is
// trusted: a 429 under it pauses the key as the server asks and is retried,
// but does not lower the pace.
//
// No field may be negative (or NaN, or infinite): every RoundTrip under such
// a policy fails, naming the field, rather than send unpaced.
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
	// TokensPerMinute. A request that costs more than the bucket holds goes
	// when it is full and is charged in full: the rest is a debt that later
	// requests wait out, so TokensPerMinute holds whatever the requests'
	// sizes, and the burst only bounds what goes at once after a quiet
	// spell.
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
	// last 10 to 20 minutes, and at most twice that many keys. With no limit
	// configured, each model used on an API key is a key of its own.
	DisableLearning bool
}

// Pace is the pace a [Limiter] enforces for one key. A zero or negative
// rate means that dimension is not limited.
type Pace struct {
	RequestRate  rate.Limit // requests per second
	RequestBurst int
	TokenRate    rate.Limit // tokens per second
	TokenBurst   int

	// Learned reports that no request rate is configured for the key and
	// the Transport learns its pace: the rates are its guess, zero before
	// it has one. A Limiter that several processes share (the redislimit
	// module) may pace them all at a limit one of them configured.
	Learned bool
	// Estimated reports that the rates are this process's estimate after
	// 429s (the server's headers did not tell the key's limit): the share
	// of the key's limit that the server accepted from this process, not
	// the key's limit. Processes sharing a key each estimate their own
	// share; a shared Limiter paces each at its own, unless it holds one
	// estimate for all of them (a [LearningLimiter], as redislimit's is):
	// the rates are then that estimate, the key's whole rate.
	Estimated bool
}

// limit turns the configured Limits into a Pace.
func (l *Limits) limit() Pace {
	var lim Pace
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

// check returns an error naming the first field of l that is negative or
// not a finite number: a negative rate would silently mean no limit.
func (l *Limits) check() error {
	for _, f := range [...]struct {
		name string
		v    float64
	}{
		{"RequestsPerMinute", l.RequestsPerMinute},
		{"RequestBurst", float64(l.RequestBurst)},
		{"TokensPerMinute", l.TokensPerMinute},
		{"TokenBurst", float64(l.TokenBurst)},
		{"MaxInFlight", float64(l.MaxInFlight)},
	} {
		if !(f.v >= 0) || math.IsInf(f.v, 1) { // NaN too
			return fmt.Errorf("Limits.%s is %v; it must be a number ≥ 0 (0: none, or the default)", f.name, f.v)
		}
	}
	return nil
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
	Wait(ctx context.Context, key string, limit Pace, tokens int) error
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
	// MinShare is the share of a key's limit that a lower priority gets
	// while a higher one keeps the key saturated, so that it never starves
	// (see [WithPriority]): counted in the limit's unit (tokens when tokens
	// are paced), and at most 0.5. With more than two priorities waiting,
	// each lower one gets what it would get alone beside the highest
	// (MinShare/(1−MinShare) times what the highest gets). Zero means the
	// default, 0.05; a negative value means none: a higher priority always
	// goes first. Set it before the limiter is used.
	MinShare float64

	buckets lazyMap[string, buckets]

	// *seams is the clock and timer (clock.go): a Transport's own, set by
	// pacerSet.get; nil means real time.
	*seams
}

// buckets is the state of one key.
type buckets struct {
	mu     sync.Mutex // guards all fields
	req    bucket
	tok    bucket
	paused time.Time
	busy   time.Time // when the last waiter is due: until then the key is in use
	queue  waitQueue // requests that could not go at once
	share  float64   // MinShare in force: a lower priority's share while higher ones wait
}

// limiterIdle is how long a MemoryLimiter keeps a key's buckets after they
// were last needed: a full bucket left alone is the same as none.
const limiterIdle = 10 * time.Minute

// idle reports whether b holds nothing at now: no pause, no reservation,
// none of either for limiterIdle, and nobody queued.
func (b *buckets) idle(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Sub(b.busy) > limiterIdle && now.Sub(b.paused) > limiterIdle && b.queue.len() == 0
}

var _ Limiter = (*MemoryLimiter)(nil)

func (m *MemoryLimiter) get(key string) *buckets {
	if b, ok := m.buckets.load(key); ok {
		return b
	}
	now := m.clock()
	return m.buckets.loadOrStore(key, func() *buckets { return &buckets{share: m.minShare()} },
		func(b *buckets) bool { return b.idle(now) }, now)
}

// Wait implements Limiter. A request that cannot go at once joins the key's
// queue, at its priority and for its tenant (see [WithPriority] and
// [WithTenant]); only the head of the queue takes its tokens, when they are
// there, so that a waiter that gives up, in any order, holds nothing, and a
// higher priority that comes meanwhile goes first.
func (m *MemoryLimiter) Wait(ctx context.Context, key string, limit Pace, tokens int) error {
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
	now := m.clock()
	w, err := b.join(ctx, now, limit, max(tokens, 1), maxDelay(ctx, now))
	if w == nil {
		return err
	}
	share := m.minShare()
	for {
		select {
		case <-b.turnOf(w):
		case <-ctx.Done():
			b.leave(w)
			return ctx.Err()
		}
		now := m.clock()
		delay, err := b.headTake(w, now, limit, maxDelay(ctx, now), share)
		switch {
		case err != nil || delay == 0:
			return err
		case delay < 0:
			continue // a better waiter came: its turn
		}
		if err := m.sleepHead(ctx, b, w, delay); err != nil {
			b.leave(w)
			return err
		}
		// Its tokens are there (or the pause is over, or a better waiter
		// came), unless a pause came meanwhile: take them, if it is still
		// the best waiter.
	}
}

// sleepHead waits delay for the tokens of w, the head, unless a better
// waiter comes first (join nudges the head): then it returns nil at once, so
// that the newcomer, which may need fewer tokens than w, gets its turn when
// its own are there rather than when w's are.
func (m *MemoryLimiter) sleepHead(ctx context.Context, b *buckets, w *waiter, delay time.Duration) error {
	hctx, nudge := context.WithCancel(ctx)
	defer nudge()
	b.mu.Lock()
	w.nudge = nudge
	better := b.queue.best(b.byTokens()) != w // came before the nudge was set
	b.mu.Unlock()
	var err error
	if !better {
		err = m.wait(hctx, delay)
	}
	b.mu.Lock()
	w.nudge = nil
	b.mu.Unlock()
	if err != nil && ctx.Err() == nil && hctx.Err() != nil {
		return nil // nudged
	}
	return err
}

// minShare is MinShare in force.
func (m *MemoryLimiter) minShare() float64 {
	switch {
	case m.MinShare == 0:
		return defaultMinShare
	case m.MinShare < 0 || m.MinShare != m.MinShare: // NaN: none
		return 0
	}
	return min(m.MinShare, maxMinShare)
}

// maxDelay is how long a wait may last from now within ctx's deadline.
func maxDelay(ctx context.Context, now time.Time) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return deadline.Sub(now)
	}
	return time.Duration(math.MaxInt64)
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

// join lets a request costing tokens go at once if the key is not paused,
// nobody is queued and the buckets hold enough (taking them: the path of a
// request under its limits, without allocation). Otherwise it queues the
// request, at ctx's priority and for its tenant, unless the wait for those
// that would go before it and for it would exceed maxDelay: then it fails
// with ErrDeadline, having taken nothing.
func (b *buckets) join(ctx context.Context, now time.Time, limit Pace, tokens int, maxDelay time.Duration) (*waiter, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busy = maxTime(b.busy, now)
	b.req.set(now, limit.RequestRate, limit.RequestBurst)
	b.tok.set(now, limit.TokenRate, limit.TokenBurst)
	n := float64(tokens)
	if b.queue.len() == 0 && !now.Before(b.paused) &&
		b.req.need(now, 0, 1) <= 0 && b.tok.need(now, 0, n) <= 0 {
		b.req.take(now, 1)
		b.tok.take(now, n)
		return nil, nil
	}
	o := optionsFrom(ctx)
	reqs, toks := b.queue.ahead(o.priority, o.tenant, n, b.byTokens(), b.share)
	d := max(b.paused.Sub(now), b.req.need(now, reqs, 1), b.tok.need(now, toks, n))
	if d > maxDelay {
		return nil, fmt.Errorf("%w (needs %v)", ErrDeadline, d.Round(time.Millisecond))
	}
	b.busy = maxTime(b.busy, now.Add(d))
	w := &waiter{turn: make(chan struct{}), cost: tokens}
	if dl, ok := ctx.Deadline(); ok {
		w.deadline = dl
	}
	earliest := b.queue.earliest
	b.queue.push(w, o.priority, o.tenant)
	if h := b.queue.head; h != w && h.nudge != nil {
		switch {
		case b.queue.best(b.byTokens()) == w:
			h.nudge() // the head sleeps for its tokens: w may need fewer
		case !w.deadline.IsZero() && (earliest.IsZero() || w.deadline.Before(earliest)):
			// The head sleeps, maybe past w's deadline, which w's context
			// may not enforce (deadlineCtx): woken, it sleeps until then
			// at most, and lets w go then (TestMemoryLimiterWakesForAnEarlierDeadline).
			h.nudge()
		}
	}
	return w, nil
}

// byTokens reports whether fair shares are counted in tokens: when tokens
// are paced (else in requests).
func (b *buckets) byTokens() bool { return b.tok.rate > 0 }

// turnOf is the channel closed when it is w's turn.
func (b *buckets) turnOf(w *waiter) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return w.turn
}

// headTake lets w, the queue's head, go if it is still the best waiter and
// its tokens are there: it takes them, leaves the queue and returns 0.
// Otherwise it returns how long to wait for them (or for the pause to end)
// before it asks again, or -1 if another waiter is now the better one (w
// waits for its turn again). If the wait would exceed maxDelay, or w's
// deadline passed while others went before it, w leaves the queue and the
// error is ErrDeadline.
func (b *buckets) headTake(w *waiter, now time.Time, limit Pace, maxDelay time.Duration, share float64) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.out {
		return 0, fmt.Errorf("%w (overtaken in the queue)", ErrDeadline)
	}
	byTokens := b.byTokens()
	b.queue.expire(now, byTokens)
	paused := now.Before(b.paused)
	if !paused {
		b.req.set(now, limit.RequestRate, limit.RequestBurst)
		b.tok.set(now, limit.TokenRate, limit.TokenBurst)
		byTokens = b.byTokens()
	}
	// A better waiter gets the turn, even during a pause: it was nudged
	// awake for it (see sleepHead).
	if !b.queue.repick(w, byTokens) {
		return -1, nil
	}
	var delay time.Duration
	if paused {
		delay = b.paused.Sub(now)
	} else {
		delay = max(b.req.need(now, 0, 1), b.tok.need(now, 0, float64(w.cost)))
		if delay <= 0 {
			b.req.take(now, 1)
			b.tok.take(now, float64(w.cost))
			b.queue.release(w, byTokens, share)
			return 0, nil
		}
	}
	if delay > maxDelay {
		b.queue.remove(w, byTokens)
		return delay, fmt.Errorf("%w (needs %v)", ErrDeadline, delay.Round(time.Millisecond))
	}
	b.busy = maxTime(b.busy, now.Add(delay))
	// Look again at the earliest deadline of another waiter (expire made it
	// later than now): one whose deadline has no timer (deadlineCtx) is
	// taken out then, not when w's wait ends.
	if e := b.queue.earliest.Sub(now); !b.queue.earliest.IsZero() && e > 0 && e < delay {
		delay = e
	}
	return delay, nil
}

// leave takes w out of the queue, which gives the next waiter its turn if w
// had it. w took nothing: only a head that goes takes.
func (b *buckets) leave(w *waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !w.out {
		b.queue.remove(w, b.byTokens())
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
	b.req.empty(now)
	b.tok.empty(now)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
