package llmretry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// RetryBudget bounds the load that retries add to a service that is down,
// without turning a short outage into failures that plain retries would
// have avoided. Retries are a share of the traffic plus a reserve, as in
// Finagle's RetryBudget, with successes earning more than failures, so
// that a single client keeps its retries while most answers are good:
//
//   - every attempt earns PerAttempt retries (0.1), every success PerSuccess
//     more (0.5), up to Reserve (10) saved; the budget starts full;
//   - a retry after an attempt that failed with a server-side class
//     (ServerError, Overloaded, ModelOverloaded, Timeout, Connection) spends
//     one.
//
// A retry the budget cannot pay for is delayed, not refused: it waits in
// line, oldest first, while the request's deadline allows, for the first of
// a retry earned by other attempts, a success (each success lets two
// waiting retries go, so the line drains in doubling waves once the service
// answers), or its turn to probe. Waiting retries go as probes one by one,
// on credit against future earnings (debts beyond Reserve are forgiven),
// the wait between probes doubling from the policy's BaseDelay to 30 s
// while they fail; a success starts them over. Waiting retries send
// nothing, so in a total outage the service gets the callers' first
// attempts, the budget's share and at most one probe every 22–30 s after
// the first few seconds: with 16 callers and 30 s deadlines, 1.25 attempts
// a request; in a 5 s outage the waiting requests succeed once it ends.
//
// A retry that gets no turn before the request's deadline (without one,
// before the policy's MaxDelay has passed) is not made: the attempt's
// answer is returned with [DecisionBudgetExhausted], at once when no probe is due
// in time or when a fallback target would take it (see
// [Policy].FallbackOnExhausted), else when the wait ends. The answer is kept in
// memory while its retry waits; one that cannot be (a stream, a body longer
// than 64 KiB) is returned at once.
//
// Rate limits (429) and answers with a wait hint neither spend nor count:
// the server has said when to come back, and pacing and the hint handle
// them.
//
// Why this shape: Envoy's budget (concurrent retries ≤ a share of active
// requests), gRPC's throttling (no retries while a token count is below
// half) and Finagle's (a share of requests plus a floor per second) refuse
// retries, so a burst of instant failures empties them and every request
// fails until successes refill them; AWS's adaptive mode delays instead,
// but rate-limits every request from throttling answers, the pacer's job
// here. This budget counts as Finagle's does, delays as AWS's does, and
// keeps one probe going so that something notices when the service is back.
//
// The zero value uses the defaults. A RetryBudget is kept per policy and per
// Transport.
type RetryBudget struct {
	// PerAttempt is the retries each attempt earns; 0 means 0.1. In a total
	// outage requests make about 1/(1−PerAttempt) attempts each, probes
	// aside.
	PerAttempt float64
	// PerSuccess is the retries each success earns besides; 0 means 0.5.
	PerSuccess float64
	// Reserve is the most retries saved up, and those available at first;
	// 0 means 10. Probes borrow at most as many.
	Reserve float64
	// Disabled turns the budget off: retries are limited only by MaxRetries.
	Disabled bool
}

// Defaults of a RetryBudget.
const (
	defaultPerAttempt = 0.1
	defaultPerSuccess = 0.5
	defaultReserve    = 10

	// releasePerSuccess is how many waiting retries a success lets go.
	releasePerSuccess = 2
	// maxProbeGap is the longest wait between two probes.
	maxProbeGap = 30 * time.Second
)

// budget is the state of one RetryBudget. Safe for concurrent use; a nil
// *budget allows every retry.
type budget struct {
	perAttempt, perSuccess, reserve float64
	probeBase                       time.Duration // the first wait between probes

	mu      sync.Mutex // guards the fields below
	balance float64    // retries left; down to −reserve while probes are owed for
	line    []*held    // retries waiting for the budget, oldest first
	probes  int        // probes since the last success
	probeAt time.Time  // no probe before this
}

// held is a retry waiting for the budget.
type held struct {
	wake    context.CancelFunc // ends its wait once granted
	granted bool
	paid    bool // granted with a retry of the balance
}

func newBudget(c RetryBudget, probeBase time.Duration) *budget {
	b := &budget{perAttempt: c.PerAttempt, perSuccess: c.PerSuccess, reserve: c.Reserve, probeBase: probeBase}
	if b.perAttempt <= 0 {
		b.perAttempt = defaultPerAttempt
	}
	if b.perSuccess <= 0 {
		b.perSuccess = defaultPerSuccess
	}
	if b.reserve <= 0 {
		b.reserve = defaultReserve
	}
	if b.probeBase <= 0 {
		b.probeBase = defaultBaseDelay
	}
	b.balance = b.reserve
	return b
}

// counts reports whether an attempt is a failure whose retry the budget pays.
func counts(v Verdict) bool {
	if v.hinted() {
		return false
	}
	switch v.Class {
	case ClassServerError, ClassOverloaded, ClassModelOverloaded, ClassTimeout, ClassConnection:
		return true
	}
	return false
}

// earn credits the budget for an attempt, and more for a success, which
// also starts the probes over and lets waiting retries go.
func (b *budget) earn(v Verdict) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, free := b.perAttempt, 0
	if v.Class == ClassOK {
		e += b.perSuccess
		free = releasePerSuccess
		b.probes, b.probeAt = 0, time.Time{}
	}
	b.balance = min(b.reserve, b.balance+e)
	b.grant(free)
}

// grant lets waiting retries go, oldest first: free of them for nothing,
// then as many as the balance pays for.
func (b *budget) grant(free int) {
	for len(b.line) > 0 && (free > 0 || b.balance >= 1) {
		h := b.line[0]
		b.line = b.line[1:]
		if free > 0 {
			free--
		} else {
			b.balance--
			h.paid = true
		}
		h.granted = true
		h.wake()
	}
}

// spend pays for a retry after an attempt whose failure counts and reports
// whether the budget allows it now; a retry it does not pay for may wait
// (see hold). It is called only when a retry would follow, so a final
// attempt spends nothing.
func (b *budget) spend(v Verdict) bool {
	if b == nil || !counts(v) {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.balance < 1 || len(b.line) > 0 {
		return false
	}
	b.balance--
	return true
}

// nextProbe is the earliest time a retry that waits from t on may probe.
func (b *budget) nextProbe(t time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.Before(b.probeAt) {
		return b.probeAt
	}
	return t
}

// hold puts a retry at the end of the line; wake ends its wait when it is
// granted.
func (b *budget) hold(wake context.CancelFunc) *held {
	h := &held{wake: wake}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line = append(b.line, h)
	return h
}

// turn reports whether h may go at now: granted, or as the probe if one is
// due (r jitters the wait before the next). If not, it returns when the
// next probe is due.
func (b *budget) turn(h *held, now time.Time, r float64) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if h.granted {
		return true, now
	}
	if now.Before(b.probeAt) {
		return false, b.probeAt
	}
	b.remove(h)
	b.probes++
	b.probeAt = now.Add(exponential(b.probeBase, maxProbeGap, b.probes, r))
	b.balance = max(-b.reserve, b.balance-1) // older debts are forgiven: a bound in time
	return true, now
}

// leave takes h out of the line when its wait ends without an attempt; a
// retry paid for it, or the free turn a success gave it, goes to the next
// in line.
func (b *budget) leave(h *held) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.remove(h)
	switch {
	case h.paid:
		h.paid = false
		b.balance++
		b.grant(0)
	case h.granted:
		b.grant(1)
	}
	h.granted = false
}

func (b *budget) remove(h *held) {
	if i := slices.Index(b.line, h); i >= 0 {
		b.line = slices.Delete(b.line, i, i+1)
	}
}

// available is the retries left before the budget makes them wait: one each.
func (b *budget) available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(0, b.balance)
}

// holdUntil is when a retry that waits for the budget from now gives up:
// the request's deadline, or without one the longest backoff step
// (MaxDelay) from now, so that in a long outage, once probes are further
// apart than that, such requests are answered at once.
func (c *call) holdUntil(now time.Time) time.Time {
	if d, ok := c.ctx.Deadline(); ok {
		return d
	}
	maxDelay := defaultMaxDelay
	if c.pol != nil && c.pol.MaxDelay > 0 {
		maxDelay = c.pol.MaxDelay
	}
	return now.Add(maxDelay)
}

// mayHold reports whether a retry after v that the budget cannot pay for,
// due after wait, may wait for its turn rather than be refused: its turn to
// probe comes before it would give up, and no fallback target would take
// the refusal instead.
func (c *call) mayHold(v Verdict, now time.Time, wait time.Duration) bool {
	if c.fallbackLeft(v, DecisionBudgetExhausted) {
		return false
	}
	return c.budget.nextProbe(now.Add(wait)).Before(c.holdUntil(now))
}

// awaitTurn waits before a retry the budget did not pay for (see
// RetryBudget), with the attempt's answer resp kept in memory so that it
// can still be returned. It returns the retry's body; or, when no turn came
// in time, it sets a's decision to BudgetExhausted and returns nil, resp
// being the answer. An answer that cannot be kept in memory (a stream, a
// body longer than the classification peek) is returned at once. If the
// request is canceled, it returns the context's error; the caller
// reports the attempt, then discards resp.
func (t *Transport) awaitTurn(c *call, resp *http.Response, a *AttemptInfo, next io.ReadCloser) (io.ReadCloser, error) {
	start := t.clock()
	ok, err := keepInMemory(resp), error(nil)
	if ok {
		// Waiting, it sends nothing: its in-flight slot goes to others,
		// whose successes may let it go (as a retry's backoff does).
		c.release()
		ok, err = t.awaitBudget(c, a.Wait)
	}
	switch {
	case err != nil:
		closeBody(next)
		c.release()
		return nil, err
	case !ok:
		closeBody(next)
		a.Decision, a.Wait = DecisionBudgetExhausted, 0
		return nil, nil
	}
	a.Wait = t.clock().Sub(start)
	return next, nil
}

// keepInMemory makes resp, an answer kept while its retry waits, hold no
// connection: it reports whether its body was read whole by the
// classification peek (or there is no response), and if so lets the
// connection go.
func keepInMemory(resp *http.Response) bool {
	if resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		return true
	}
	pb, ok := resp.Body.(*peekedBody)
	if !ok || !pb.whole {
		return false
	}
	pb.rest.Close()
	pb.rest = http.NoBody
	return true
}

// awaitBudget waits d, then until the budget lets the call's retry go. It
// reports false when the retry gets no turn before holdUntil, and returns
// the context's error if the request is canceled.
func (t *Transport) awaitBudget(c *call, d time.Duration) (bool, error) {
	ctx, wake := context.WithCancel(c.ctx)
	defer wake()
	until := c.holdUntil(t.clock())
	h := c.budget.hold(wake)
	gaveUp := func() (bool, error) {
		c.budget.leave(h)
		if err := c.ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return false, err
		}
		return false, nil // past the deadline, the answer is still the caller's
	}
	if err := t.wait(c.ctx, d); err != nil {
		return gaveUp()
	}
	for {
		now := t.clock()
		if !now.Before(until) {
			return gaveUp()
		}
		ok, next := c.budget.turn(h, now, t.random())
		if ok {
			return true, nil
		}
		if next.After(until) {
			next = until
		}
		if err := t.wait(ctx, next.Sub(now)); err != nil && c.ctx.Err() != nil {
			return gaveUp()
		}
	}
}

// budgets holds a Transport's retry budgets, one per policy.
type budgets struct{ m lazyMap[*Policy, budget] }

func (s *budgets) get(p *Policy) *budget {
	if p == nil || p.Budget.Disabled {
		return nil
	}
	if b, ok := s.m.load(p); ok {
		return b
	}
	return s.m.loadOrStore(p, func() *budget { return newBudget(p.Budget, p.BaseDelay) }, nil, time.Time{})
}
