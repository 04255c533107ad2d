package llmretry

import (
	"sync"
	"time"
)

// RetryBudget stops retries during a wide outage, when they would only add
// load to a service that is down, and lets a client retry freely when only
// some answers fail. Like Finagle's RetryBudget and Envoy's retry budgets,
// retries are a share of the traffic plus a reserve; unlike them, successes
// earn more than failures, so that a single client keeps its retries while
// most answers are good and loses them only when few are:
//
//   - every attempt earns PerAttempt retries (0.1), every success PerSuccess
//     more (0.5), up to Reserve (10) saved; the budget starts full;
//   - a retry after an attempt that failed with a server-side class
//     (ServerError, Overloaded, ModelOverloaded, Timeout, Connection) spends
//     one, and is not made when less than one is left.
//
// With the defaults, a client whose answers fail 30% of the time (with no
// hint) retries every one of them (it needs about 0.4 retries a request,
// and earns about 0.6); in a total outage it makes its reserve of retries,
// then about one retry for every nine requests (1.11 attempts a request),
// and its retries come back with the successes. Rate limits (429) and
// answers with a wait hint neither spend nor count: the server has said
// when to come back, and pacing and the hint handle them.
//
// The zero value uses the defaults. A RetryBudget is kept per policy and per
// Transport.
type RetryBudget struct {
	// PerAttempt is the retries each attempt earns; 0 means 0.1. It bounds
	// the attempts a request makes in a total outage to 1/(1−PerAttempt).
	PerAttempt float64
	// PerSuccess is the retries each success earns besides; 0 means 0.5.
	PerSuccess float64
	// Reserve is the most retries saved up, and those available at first;
	// 0 means 10.
	Reserve float64
	// Disabled turns the budget off: retries are limited only by MaxRetries.
	Disabled bool
}

// Defaults of a RetryBudget.
const (
	defaultPerAttempt = 0.1
	defaultPerSuccess = 0.5
	defaultReserve    = 10
)

// budget is the state of one RetryBudget. Safe for concurrent use; a nil
// *budget allows every retry.
type budget struct {
	perAttempt, perSuccess, reserve float64

	mu      sync.Mutex // guards balance
	balance float64
}

func newBudget(c RetryBudget) *budget {
	b := &budget{perAttempt: c.PerAttempt, perSuccess: c.PerSuccess, reserve: c.Reserve}
	if b.perAttempt <= 0 {
		b.perAttempt = defaultPerAttempt
	}
	if b.perSuccess <= 0 {
		b.perSuccess = defaultPerSuccess
	}
	if b.reserve <= 0 {
		b.reserve = defaultReserve
	}
	b.balance = b.reserve
	return b
}

// counts reports whether an attempt is a failure whose retry the budget pays.
func counts(v Verdict) bool {
	if v.Hint != NoHint && v.RetryAfter > 0 {
		return false
	}
	switch v.Class {
	case ServerError, Overloaded, ModelOverloaded, Timeout, Connection:
		return true
	}
	return false
}

// record accounts for an attempt and reports whether a retry after it is
// allowed; if the attempt's failure counts, the retry is paid for now. It is
// earn followed by spend.
func (b *budget) record(v Verdict) bool {
	b.earn(v)
	return b.spend(v)
}

// earn credits the budget for an attempt, and more for a success.
func (b *budget) earn(v Verdict) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.perAttempt
	if v.Class == OK {
		e += b.perSuccess
	}
	b.balance = min(b.reserve, b.balance+e)
}

// spend pays for a retry after an attempt whose failure counts and reports
// whether the budget allows it. It is called only when a retry would follow,
// so a final attempt spends nothing.
func (b *budget) spend(v Verdict) bool {
	if b == nil || !counts(v) {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.balance < 1 {
		return false
	}
	b.balance--
	return true
}

// available is the retries left before the budget stops them: one each.
func (b *budget) available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(0, b.balance)
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
	return s.m.loadOrStore(p, func() *budget { return newBudget(p.Budget) }, nil, time.Time{})
}
