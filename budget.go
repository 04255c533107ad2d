package llmretry

import "sync"

// RetryBudget stops retries during a wide outage, when they would only add
// load to a service that is down, in the manner of gRPC's retry throttling:
// a bucket of MaxTokens tokens, full at first; every attempt that fails with
// a server-side class (ServerError, Overloaded, ModelOverloaded, Timeout,
// Connection) takes one token, every success gives back Ratio tokens, and
// retries are allowed only while the bucket is more than half full.
//
// So a client can always retry its first MaxTokens/2 consecutive failures
// (the floor), in a sustained outage retries stop after those, and they
// resume once successes have refilled the bucket past half: with the
// defaults, 5 successes per lost token, 26 after a long outage. In steady
// state, retries go on while fewer than about one attempt in six fails.
// Rate limits (429) and answers with a wait hint do not count: the server
// has said when to come back, and pacing and the hint handle them.
//
// The zero value uses the defaults. A RetryBudget is kept per policy and per
// Transport.
type RetryBudget struct {
	// MaxTokens is the bucket size; 0 means 10. Retries are allowed while
	// more than half of it is left.
	MaxTokens float64
	// Ratio is the tokens a success gives back; 0 means 0.2.
	Ratio float64
	// Disabled turns the budget off: retries are limited only by MaxRetries.
	Disabled bool
}

// budget is the state of one RetryBudget. Safe for concurrent use.
type budget struct {
	max, ratio float64

	mu     sync.Mutex // guards tokens
	tokens float64
}

func newBudget(c RetryBudget) *budget {
	b := &budget{max: c.MaxTokens, ratio: c.Ratio}
	if b.max <= 0 {
		b.max = 10
	}
	if b.ratio <= 0 {
		b.ratio = 0.2
	}
	b.tokens = b.max
	return b
}

// counts reports whether an attempt is a failure for the budget.
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
// allowed.
func (b *budget) record(v Verdict) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case v.Class == OK:
		b.tokens = min(b.max, b.tokens+b.ratio)
	case counts(v):
		b.tokens = max(0, b.tokens-1)
	}
	return b.tokens > b.max/2
}

// available is the retries left before the budget stops them: one token
// each, down to half the bucket.
func (b *budget) available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(0, b.tokens-b.max/2)
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
	return s.m.loadOrStore(p, newBudget(p.Budget))
}
