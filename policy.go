package llmretry

import (
	"maps"
	"time"
)

// Defaults of a [Policy] whose fields are zero.
const (
	defaultMaxRetries = 2                      // 3 attempts, like the providers' own SDKs
	defaultBaseDelay  = 500 * time.Millisecond // first backoff step
	defaultMaxDelay   = 8 * time.Second        // longest backoff step
	// defaultMaxWait is the longest server wait hint honored: openai-go's
	// own limit (v3.98.0, internal/requestconfig: "defaultMaxRetryAfterDelay
	// is the maximum server-directed retry delay. Delays above this limit
	// stop automatic retries. const defaultMaxRetryAfterDelay = 2 *
	// time.Minute"), so that a zero-config Transport under openai-go honors
	// every hint the SDK alone would (issue 20: Azure OpenAI and per-minute
	// limits answer 60–90 s hints). It was 60 s, which refused a
	// Retry-After: 61 even with the deadline to wait; the context's deadline
	// still decides (DecisionPastDeadline) when it comes sooner.
	defaultMaxWait = 2 * time.Minute
)

// Policy is everything provider-specific: what codes mean, how often and how
// long to retry, how long a server may ask us to wait, and how fast to send.
// Zero fields mean the default given in each field's comment, so
// &Policy{Name: "mine"} is a generic policy (Provider("generic") adds one
// status rule: 409 is retried, as openai-go does).
//
// [Provider] returns a new copy of a built-in policy on every call; change
// its fields freely before handing it to a [Transport]. A Policy must not be changed once a Transport uses it.
// Its methods are safe for simultaneous use by multiple goroutines.
type Policy struct {
	// Name identifies the policy in logs, hooks, errors and pacing keys.
	Name string

	// MaxRetries is how many times a failed attempt is retried.
	// Zero means the default, 2 (3 attempts, as the providers' own SDKs make);
	// a negative value means no retries.
	MaxRetries int

	// BaseDelay and MaxDelay shape the exponential backoff used when the
	// server gives no wait hint. Zero means the defaults: 0.5 s and 8 s; a
	// negative value means no backoff: retries go at once.
	// Ignored when Backoff is set.
	BaseDelay, MaxDelay time.Duration

	// Backoff returns how long to wait before retry number retry (1 for the
	// first retry) when the server gave no wait hint. It must be safe for
	// concurrent use. Nil means the default: exponential from BaseDelay,
	// doubling up to MaxDelay, with equal jitter (uniformly between half and
	// all of each step, so that clients that failed together do not retry
	// together, and never less than half, so that retries do not pile onto a
	// rate limit).
	Backoff func(retry int) time.Duration

	// MaxWait is the longest server wait hint (Retry-After and the like)
	// that is honored. A longer hint makes the Transport return the response
	// at once instead of sleeping. Zero means the default, 2 min (openai-go's own limit); a negative
	// value means none: an answer with a wait hint is returned at once, and
	// the server's rate-limit headers never hold other requests.
	MaxWait time.Duration

	// AttemptTimeout bounds how long one attempt may wait for the response
	// headers (an LLM's non-streaming answer arrives with its headers, so this
	// bounds the generation), and for an error answer the first bytes of its
	// body, which classify it: a dead connection times out and is retried.
	// Reading the body of a returned success is not bounded by it. Zero
	// means no per-attempt bound: only the request's context limits it.
	AttemptTimeout time.Duration

	// FirstTokenTimeout bounds how long a streaming attempt may wait for its
	// first event: from sending the request until the first event of its
	// text/event-stream answer is complete. A stream that stalls before it
	// (headers and then nothing, or keep-alive comments only) is cut off and
	// retried. Before the headers it applies only to requests that ask for a
	// stream (an Accept: text/event-stream header, or "stream": true in the
	// JSON body), so that a non-streaming answer may take its time. Zero
	// means no such bound; AttemptTimeout, if set, also bounds the first
	// event. See also [WithFirstTokenTimeout].
	FirstTokenTimeout time.Duration

	// Codes maps lower-case error codes and error types, as found in the
	// response body, to rules. The body's code is looked up first, then its
	// type; codes not found here fall back to the generic table of
	// OpenAI-compatible codes, then to Statuses, then to the status's class.
	Codes map[string]Rule

	// Statuses maps HTTP statuses to rules for error responses whose body
	// names no known code or type (or only one that restates the status:
	// an invalid-request code, a conflict code on a 409).
	Statuses map[int]Rule

	// Budget stops retries during a wide outage; the zero value is on with
	// its defaults. See RetryBudget.
	Budget RetryBudget

	// Limits configures client-side pacing. The zero value paces nothing,
	// but still learns limits from rate-limit headers and cools down after
	// a 429; see Limits.
	Limits Limits

	// Priority is the priority of the policy's requests when they wait for
	// their key's pacing, unless [WithPriority] sets one: a higher priority
	// goes first. Zero is the default. Copies of a policy (the same Name)
	// share a key's configured limits and its queue, but each learns its
	// own pace and has its own MaxInFlight: to order traffic under a
	// learned pace, use one policy and WithPriority.
	Priority int

	// Fallbacks are the targets tried, in order, when this policy's target
	// is overloaded (or fails as FallbackOnRateLimit and FallbackOnExhausted
	// say): other models on the same API, or other
	// endpoints. A request goes to each target at most once, in order; the
	// last target it reaches is retried as its own policy says. Fallbacks
	// need a request body that can be sent again (see Transport.MaxBodyBuffer);
	// a request made with [WithoutFallback] uses none.
	// Fallbacks of a fallback's own policy are not followed.
	Fallbacks []Target

	// An overloaded answer (ClassOverloaded or ClassModelOverloaded, e.g.
	// GPT-Gob's 503 horde_unavailable, Anthropic's 529) always moves a
	// request to its next fallback at once, without waiting. These add
	// other outcomes; setting one never turns the overload fallback off.
	//
	// FallbackOnRateLimit falls back at once after a rate-limited answer,
	// instead of waiting out its hint on the same target. A request whose
	// target the server has paused (after another request's 429) goes to
	// the next target at once too, without an attempt; so does one that the
	// target's configured Limits cannot let go before its deadline.
	// Requests that cannot fall back still wait out the pause.
	//
	// FallbackOnExhausted falls back when a target's retries end on a
	// retryable failure (retries exhausted, the retry budget spent, a wait
	// hint over MaxWait or past the deadline), whatever its class.
	FallbackOnRateLimit, FallbackOnExhausted bool

	// Pool spreads the requests of this policy over equivalent targets:
	// several API keys, deployments or regions of one model. Each attempt
	// goes to the target that can send it soonest, by the headroom of its
	// pacing (its configured Limits, or the limits learned from its
	// answers) times its Weight; a target the server has paused, or whose
	// last answers failed (overloaded, a server error, a timeout, no
	// connection), cools down and is tried again by itself a little later.
	// A retryable failure on one target is retried at once on another that
	// can send, instead of waiting out the first one's hint; Fallbacks
	// apply when no target of the pool can. Every attempt goes to a
	// target of the pool, never to the request's own target unless a
	// Target without BaseURL, Model and Header stands for it. Each target
	// keeps its own policy, pacing, budget and credentials, as a fallback
	// does (see Target). A pool needs a request body that can be sent
	// again (see Transport.MaxBodyBuffer). See docs/pool.md.
	Pool []Target
}

// Clone returns a deep copy of p that can be changed without affecting p.
func (p *Policy) Clone() *Policy {
	c := *p
	c.Codes = maps.Clone(p.Codes)
	c.Statuses = maps.Clone(p.Statuses)
	if p.Fallbacks != nil {
		c.Fallbacks = make([]Target, len(p.Fallbacks))
		for i, f := range p.Fallbacks {
			f.Header = f.Header.Clone()
			c.Fallbacks[i] = f
		}
	}
	if p.Pool != nil {
		c.Pool = make([]Target, len(p.Pool))
		for i, f := range p.Pool {
			f.Header = f.Header.Clone()
			c.Pool[i] = f
		}
	}
	return &c
}

func (p *Policy) name() string {
	if p == nil || p.Name == "" {
		return "generic"
	}
	return p.Name
}

func (p *Policy) maxRetries() int {
	switch {
	case p == nil || p.MaxRetries == 0:
		return defaultMaxRetries
	case p.MaxRetries < 0:
		return 0
	}
	return p.MaxRetries
}

func (p *Policy) maxWait() time.Duration {
	switch {
	case p == nil || p.MaxWait == 0:
		return defaultMaxWait
	case p.MaxWait < 0:
		return 0
	}
	return p.MaxWait
}

func (p *Policy) attemptTimeout() time.Duration {
	if p == nil {
		return 0
	}
	return p.AttemptTimeout
}

func (p *Policy) firstTokenTimeout() time.Duration {
	if p == nil {
		return 0
	}
	return p.FirstTokenTimeout
}

// fallbacks returns the fallbacks a request with options o may use.
func (p *Policy) fallbacks(o requestOptions) []Target {
	if p == nil || o.noFallback {
		return nil
	}
	return p.Fallbacks
}

// backoff is the wait before retry number retry when there is no hint.
func (p *Policy) backoff(retry int, r float64) time.Duration {
	if p != nil && p.Backoff != nil {
		return p.Backoff(retry)
	}
	base, maxDelay := p.delays()
	return exponential(base, maxDelay, retry, r)
}

// delays are the first backoff step and the longest in force: the
// policy's BaseDelay (negative: no backoff) and MaxDelay, or the defaults.
func (p *Policy) delays() (base, maxDelay time.Duration) {
	base, maxDelay = defaultBaseDelay, defaultMaxDelay
	if p != nil {
		if p.BaseDelay != 0 {
			base = p.BaseDelay
		}
		if p.MaxDelay != 0 {
			maxDelay = p.MaxDelay
		}
	}
	return base, maxDelay
}
