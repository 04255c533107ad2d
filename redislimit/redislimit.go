// Package redislimit is an llmretry.Limiter that keeps its buckets and
// cooldowns in Redis, so that many processes sharing one API key share one
// limit. It is its own module, so that the core llmretry module does not
// depend on Redis.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	p := llmretry.Provider("openai")
//	p.Limits = llmretry.Limits{RequestsPerMinute: 500, Limiter: redislimit.New(rdb, redislimit.Options{})}
//	client := &http.Client{Transport: &llmretry.Transport{Policy: p}}
//
// Each paced request costs one Redis round trip: a Lua script that checks the
// key's shared pause and reserves a request and its tokens (GCRA, on the
// Redis server's clock). When Redis cannot be reached, requests fall back to
// in-memory buckets in each process (the default) or fail with
// ErrUnavailable (Options.FailClosed); Redis is tried again after
// Options.RetryAfter. No request ever waits on Redis longer than
// Options.Timeout.
package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is returned, wrapped, by a fail-closed Limiter when Redis
// cannot be reached.
var ErrUnavailable = errors.New("redislimit: redis unavailable")

// Options configures a Limiter. The zero value is usable.
type Options struct {
	// Prefix starts every Redis key; if empty, "llmretry:" is used.
	Prefix string
	// FailClosed makes Wait fail with ErrUnavailable while Redis cannot be
	// reached. By default each process paces with in-memory buckets
	// instead, so the fleet can exceed the shared limit during the outage
	// but no request is refused.
	FailClosed bool
	// Timeout bounds each Redis call; if zero, 250 ms. It holds whatever
	// the client's options (go-redis heeds a context's deadline only with
	// ContextTimeoutEnabled): a call still running at the timeout is left
	// to end on its own goroutine, and the request falls back as in an
	// outage. A reservation such a call makes late is given back. While 8
	// calls are left running, Redis counts as down. A go-redis client with
	// ContextTimeoutEnabled ends its calls at the timeout itself, and saves
	// a goroutine a call (about a third faster).
	Timeout time.Duration
	// RetryAfter is how long to stay on the fallback after Redis failed
	// before trying it again; if zero, 1 s.
	RetryAfter time.Duration
	// OnError, if non-nil, is told about every Redis failure.
	OnError func(error)
}

// Limiter is an llmretry.Limiter on Redis. It is safe for simultaneous use
// by multiple goroutines.
type Limiter struct {
	rdb   redis.Scripter
	opts  Options
	local llmretry.MemoryLimiter // the fallback

	id        string                     // this Limiter's name for its share in a key's fleet hash (fleet.go)
	est       estimates                  // the keys' shared estimates as last seen (estimate.go)
	clock     func() time.Time           // a test's clock for the scripts (estimate.go); nil: Redis's
	rclk      atomic.Pointer[redisClock] // the latest tie of this process's clock to Redis's (estimate.go)
	heeds     bool                       // rdb ends a call at its context's deadline
	downUntil atomic.Int64               // unix nanoseconds; Redis is not tried before
	stuck     atomic.Int32               // calls abandoned at the timeout that have not returned
}

var _ llmretry.Limiter = (*Limiter)(nil)

// New returns a Limiter that keeps its state in rdb (a *redis.Client,
// *redis.ClusterClient or any redis.Scripter).
func New(rdb redis.Scripter, opts Options) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = "llmretry:"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 250 * time.Millisecond
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	return &Limiter{rdb: rdb, opts: opts, heeds: heedsDeadlines(rdb), id: newID()}
}

// heedsDeadlines reports whether rdb ends its calls at their context's
// deadline: a go-redis client with ContextTimeoutEnabled. Other clients'
// calls are run on a goroutine of their own and abandoned at the timeout.
func heedsDeadlines(rdb redis.Scripter) bool {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// keys returns the key's bucket, pause and fleet hashes, in one cluster
// slot.
func (l *Limiter) keys(key string) []string {
	tag := l.opts.Prefix + "{" + key + "}"
	return []string{tag + ":buckets", tag + ":pause", tag + ":fleet"}
}

// newID names a Limiter among the processes of a fleet: 64 random bits.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// micros converts a rate per second to an interval in microseconds; 0 means
// not limited.
func micros(r float64) float64 {
	if r <= 0 || math.IsInf(r, 1) {
		return 0
	}
	return 1e6 / r
}

// Wait implements llmretry.Limiter.
func (l *Limiter) Wait(ctx context.Context, key string, limit llmretry.Pace, tokens int) error {
	for {
		again, err := l.waitOnce(ctx, key, limit, tokens)
		if !again {
			return err
		}
		if err := sleep(ctx, fleetStep); err != nil {
			return err
		}
	}
}

// fleetStep is how far ahead a process that learned no request rate
// reserves at the fleet's estimate (estimate.go), and how long it waits
// before it asks again when the shared bucket is further ahead: the
// Transport's own step under an estimate (100 ms). Reserving up to the
// request's deadline instead, at the estimate of the moment, a slow start
// at 15/s booked the bucket 2 s ahead for the 28 workers that had no
// estimate yet, while the estimate grew to 125/s (bench fleet,
// retry-after ×8: 1.36-3.45x).
const fleetStep = 100 * time.Millisecond

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitOnce is one reservation of Wait; again: the caller learned no
// request rate, the fleet's estimate paces it, and its turn is more than
// fleetStep away: it waits fleetStep and asks again.
func (l *Limiter) waitOnce(ctx context.Context, key string, limit llmretry.Pace, tokens int) (again bool, _ error) {
	if l.isDown() {
		return false, l.fallbackWait(ctx, key, limit, tokens, nil)
	}
	maxWait := int64(-1)
	if deadline, ok := ctx.Deadline(); ok {
		maxWait = max(0, time.Until(deadline).Microseconds())
	}
	stepping := paceKind(limit) == paceLearned && limit.RequestRate <= 0 && (maxWait < 0 || maxWait > fleetStep.Microseconds())
	if stepping {
		maxWait = fleetStep.Microseconds()
	}
	tokens = max(tokens, 1)
	keys := l.keys(key)
	args := l.reserveArgs(maxWait, limit, tokens)
	var ke *keyEstimate
	if paceKind(limit) != paceGiven {
		// The answers accepted since the last call ride on this one.
		ke = l.est.get(key, l.now())
		args = append(args, ke.accepted.Swap(0), l.scriptNow(), takeSent(ke))
	}

	l0 := l.now()
	res, err := l.do(ctx, func(ctx context.Context) ([]any, error) {
		return reserveScript.Run(ctx, l.rdb, keys, args...).Slice()
	}, func(res []any) {
		// Nobody waits for this reservation any more: give it back.
		if ok, _, cancelArgs, err := parseReply(res); err == nil && ok && cancelArgs != nil {
			cctx, cancel := context.WithTimeout(context.Background(), l.opts.Timeout)
			defer cancel()
			cancelScript.Run(cctx, l.rdb, keys[:1], cancelArgs...)
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		l.fail(err)
		return false, l.fallbackWait(ctx, key, limit, tokens, err)
	}
	ok, delay, cancelArgs, perr := parseReply(res)
	if perr != nil {
		l.fail(perr)
		return false, l.fallbackWait(ctx, key, limit, tokens, perr)
	}
	if ke != nil {
		noteEstimate(ke, res, ok, l.now())
		l.noteAccepted(ke, replyTail(res, ok), l0)
	}
	if !ok {
		if stepping {
			return true, nil
		}
		return false, fmt.Errorf("%w (needs %v)", llmretry.ErrDeadline, delay.Round(time.Millisecond))
	}
	// An estimate reserved nothing in Redis (no fleet estimate: see
	// fleet.go): after a pause shared there, it paces this process at its
	// own share, in memory.
	local := paceKind(limit) == paceEstimated && cancelArgs != nil && cancelArgs[1] == "0" && cancelArgs[2] == "0"
	if delay <= 0 {
		return false, l.paceLocally(ctx, key, limit, tokens, local)
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return false, l.paceLocally(ctx, key, limit, tokens, local)
	case <-ctx.Done():
		if cancelArgs == nil {
			return false, ctx.Err()
		}
		// Give the reservation back, best effort, within the timeout.
		l.do(context.WithoutCancel(ctx), func(ctx context.Context) ([]any, error) {
			return nil, cancelScript.Run(ctx, l.rdb, keys[:1], cancelArgs...).Err()
		}, nil)
		return false, ctx.Err()
	}
}

// reserveArgs are the reserve script's arguments for a request costing
// tokens at limit, waiting maxWait µs at most (-1: no limit).
func (l *Limiter) reserveArgs(maxWait int64, limit llmretry.Pace, tokens int) []any {
	ri, ti := micros(float64(limit.RequestRate)), micros(float64(limit.TokenRate))
	rb, tb := max(limit.RequestBurst, 1), max(limit.TokenBurst, 1)
	return []any{maxWait, ri, rb, ti, tb, tokens, paceKind(limit), l.id}
}

// maxStuck is how many Redis calls abandoned at the timeout may be left
// waiting for their reply before Redis counts as down until one returns.
const maxStuck = 8

// do runs f, one Redis call, and waits for it no longer than
// Options.Timeout, whatever the client's options: go-redis ignores a
// context's deadline unless ContextTimeoutEnabled is set, and then a slow
// Redis holds a call for its ReadTimeout (3 s by default), a silent one for
// longer. So f runs on its own goroutine, with ctx bounded by the timeout
// (which a client that heeds contexts obeys); at the timeout do returns an
// error and leaves it, and hands its reply, when it comes, to late (if
// non-nil). While maxStuck calls are left, Redis counts as down: a silent
// server does not gather goroutines. A client that heeds deadlines
// (heedsDeadlines) is called directly.
func (l *Limiter) do(ctx context.Context, f func(context.Context) ([]any, error), late func([]any)) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	if l.heeds { // the call ends at the timeout by itself: no goroutine
		defer cancel()
		return f(ctx)
	}
	if l.stuck.Load() >= maxStuck {
		cancel()
		return nil, errors.New("redislimit: earlier calls to redis have not returned")
	}
	c := &call{reply: make(chan callReply, 1)}
	go func() {
		defer cancel()
		res, err := f(ctx)
		if c.state.CompareAndSwap(callWaiting, callDone) {
			c.reply <- callReply{res, err}
			return
		}
		// Abandoned: nobody reads the reply.
		if late != nil && err == nil {
			late(res)
		}
		l.stuck.Add(-1)
	}()
	select {
	case r := <-c.reply:
		return r.res, r.err
	case <-ctx.Done():
	}
	if !c.state.CompareAndSwap(callWaiting, callAbandoned) {
		r := <-c.reply // it returned meanwhile
		return r.res, r.err
	}
	l.stuck.Add(1)
	if err := context.Cause(ctx); !errors.Is(err, context.DeadlineExceeded) {
		return nil, err // the caller's context ended
	}
	return nil, fmt.Errorf("redislimit: no answer from redis within %v: %w", l.opts.Timeout, context.DeadlineExceeded)
}

// call is one Redis call run by do.
type call struct {
	state atomic.Int32 // callWaiting, then callDone or callAbandoned
	reply chan callReply
}

const (
	callWaiting = iota
	callDone
	callAbandoned
)

type callReply struct {
	res []any
	err error
}

// parseReply reads the reserve script's reply: whether it reserved, the
// delay, and the cancel script's arguments that give the reservation back
// (ready, and the interval and token cost reserved: the fleet's pace may
// differ from the caller's). A reply it cannot have given (a flag other
// than 0 or 1, a delay that is not a number of microseconds a
// time.Duration holds) is an error, as Redis failing is: read as it is, it
// would fail the request for a deadline it may not have, or send it at
// once (a NaN or huge delay wraps to a negative Duration).
func parseReply(res []any) (ok bool, delay time.Duration, cancelArgs []any, err error) {
	if len(res) < 2 {
		return false, 0, nil, fmt.Errorf("redislimit: unexpected reply %v", res)
	}
	flag, fok := res[0].(int64)
	if !fok || (flag != 0 && flag != 1) {
		return false, 0, nil, fmt.Errorf("redislimit: unexpected reply %v", res)
	}
	ds, _ := res[1].(string)
	us, err := strconv.ParseFloat(ds, 64)
	if err != nil || !(us >= 0 && us < float64(math.MaxInt64/int64(time.Microsecond))) { // NaN too
		return false, 0, nil, fmt.Errorf("redislimit: unexpected delay %q", ds)
	}
	delay = time.Duration(us) * time.Microsecond
	if flag == 1 && len(res) >= 5 {
		cancelArgs = []any{res[2], res[3], res[4]}
		for _, a := range cancelArgs {
			if s, ok := a.(string); !ok || !isMicros(s) {
				return false, 0, nil, fmt.Errorf("redislimit: unexpected reply %v", res)
			}
		}
	}
	return flag == 1, delay, cancelArgs, nil
}

// Pause implements llmretry.Limiter.
func (l *Limiter) Pause(ctx context.Context, key string, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	l.local.Pause(ctx, key, until) // so the fallback knows it too
	if l.isDown() {
		return nil
	}
	_, err := l.do(context.WithoutCancel(ctx), func(ctx context.Context) ([]any, error) {
		return nil, pauseScript.Run(ctx, l.rdb, l.keys(key)[1:2], d.Microseconds()).Err()
	}, nil)
	if err != nil {
		l.fail(err)
		return nil // the local pause holds this process; that is all we can do
	}
	return nil
}

// paceLocally waits for limit in this process's memory when local says
// the fleet left the pace to it.
func (l *Limiter) paceLocally(ctx context.Context, key string, limit llmretry.Pace, tokens int, local bool) error {
	if !local {
		return nil
	}
	return l.local.Wait(ctx, key, limit, tokens)
}

func (l *Limiter) fallbackWait(ctx context.Context, key string, limit llmretry.Pace, tokens int, cause error) error {
	if l.opts.FailClosed {
		if cause == nil {
			return ErrUnavailable
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, cause)
	}
	return l.local.Wait(ctx, key, limit, tokens)
}

func (l *Limiter) isDown() bool {
	return time.Now().UnixNano() < l.downUntil.Load()
}

func (l *Limiter) fail(err error) {
	l.downUntil.Store(time.Now().Add(l.opts.RetryAfter).UnixNano())
	if l.opts.OnError != nil {
		l.opts.OnError(err)
	}
}

// isMicros reports whether s is a whole number of microseconds, as the
// scripts format them.
func isMicros(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}
