package llmretrytest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Unit is what a [Quota] counts.
type Unit uint8

const (
	// Requests counts each request as 1.
	Requests Unit = iota
	// Tokens counts a request's prompt plus its max_tokens, as providers
	// reserve them before generating (see [RequestTokens]).
	Tokens
	// InputTokens counts a request's prompt only (Anthropic's ITPM).
	InputTokens
	// OutputTokens counts a request's max_tokens only (Anthropic's OTPM).
	OutputTokens
)

var unitNames = [...]string{"requests", "tokens", "input-tokens", "output-tokens"}

// String returns the unit's name as headers spell it, e.g. "input-tokens".
func (u Unit) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return "unit(" + strconv.Itoa(int(u)) + ")"
}

// Quota is one limit a Server enforces on each credential: a token bucket
// (the default) or a fixed window.
type Quota struct {
	Unit Unit
	// Limit is the most of Unit that can go at once: a full bucket, or a
	// window's allowance. It is also the value announced as the limit.
	Limit int
	// Per is how long an empty bucket takes to refill Limit (so the rate is
	// Limit/Per), or how long a window lasts. Windows are aligned to
	// multiples of Per on the server's clock in UTC, as minutes and days
	// are.
	Per time.Duration
	// Window makes the quota a fixed window: Limit per window, all of it
	// available again when the next window starts.
	Window bool
	// Silent enforces the quota without announcing it in headers, as
	// Cerebras announces only its per-day request and per-minute token
	// limits while also enforcing requests per minute.
	Silent bool
}

// Bucket is a token bucket of burst units refilled at perSecond.
func Bucket(u Unit, perSecond float64, burst int) Quota {
	burst = max(burst, 1)
	return Quota{Unit: u, Limit: burst, Per: time.Duration(float64(burst) / perSecond * float64(time.Second))}
}

// Window is a fixed window allowing limit units per period.
func Window(u Unit, limit int, per time.Duration) Quota {
	return Quota{Unit: u, Limit: limit, Per: per, Window: true}
}

// Rate is the quota's long-run rate in units per second.
func (q Quota) Rate() float64 {
	if q.Per <= 0 {
		return math.Inf(1)
	}
	return float64(q.Limit) / q.Per.Seconds()
}

// LimitSpec is a rate limit a Server enforces on each credential (the
// Authorization or X-Api-Key value), as a provider does per API key: one or
// more quotas, the shape of its 429 body, and how it is announced. A request
// is admitted only if every quota has room for its cost (1 request, or its
// tokens: see [RequestTokens]), and then takes from every quota; a refused
// request takes nothing and gets a 429.
//
// Get one from a [Style], which sets how the limit is announced (rate-limit
// headers, reset format, wait hints) as a real provider does, then change
// Quotas, Dialect or Clock if needed. A LimitSpec written as a literal
// announces nothing: no rate-limit headers, no wait hint, a 429 body
// without a wait in it.
type LimitSpec struct {
	Quotas []Quota
	// Announced, when set, are the quotas the rate-limit headers describe
	// instead of Quotas, as a gateway in front of the real limiter
	// approximates it: counted like Quotas (what was admitted takes from
	// them) but never refusing, and a 429 announces nothing left in them.
	// Nil announces Quotas as they are.
	Announced []Quota

	// Dialect shapes the 429's body. A Style sets the dialect of the
	// provider it imitates.
	Dialect Dialect

	// Clock is the server's clock; nil means time.Now. Tests that drive a
	// client with a fake clock can drive the server with the same one.
	Clock func() time.Time

	// The announcement, set by a Style.
	headers headerSet   // the rate-limit headers written for announced quotas
	reset   resetFormat // how reset times are written
	only429 bool        // rate-limit headers on 429s only (Cencori), not on every answer (OpenAI)
	// hints are the wait hints a 429 carries, set to the exact wait until
	// the request would be admitted, rounded up.
	hints hintSet
	// bodyHint also writes the wait where the dialect's body carries one
	// (GPT-Gob's retry_after, OpenAI's and SolidRusT's "try again in 1s"
	// messages); otherwise the body names no wait.
	bodyHint bool
}

// SetLimit makes the server enforce spec from now on, with fresh quotas
// and counts; a spec without quotas removes the limit. Steps from Enqueue
// and EnqueueModel bypass the limit; answers from Respond's function and the
// default success answer are subject to it.
func (s *Server) SetLimit(spec LimitSpec) {
	var l *limits
	if len(spec.Quotas) > 0 {
		spec.Quotas = append([]Quota(nil), spec.Quotas...)
		spec.Announced = append([]Quota(nil), spec.Announced...)
		l = &limits{spec: spec, keys: map[string][]quotaState{}}
	}
	s.mu.Lock()
	s.limit = l
	s.mu.Unlock()
}

// LimitCounts returns how many requests the limit has admitted and refused
// (with a 429) since the last SetLimit.
func (s *Server) LimitCounts() (admitted, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit == nil {
		return 0, 0
	}
	return s.limit.admitted, s.limit.refused
}

// limits is the state of a LimitSpec: each credential's quotas.
type limits struct {
	spec              LimitSpec
	keys              map[string][]quotaState
	admitted, refused int
}

// quotaState is one quota of one credential.
type quotaState struct {
	tokens float64   // bucket: units in the bucket
	last   time.Time // bucket: when tokens was computed
	start  time.Time // window: start of the current window
	used   int       // window: units used in it
}

func (l *limits) now() time.Time {
	if l.spec.Clock != nil {
		return l.spec.Clock()
	}
	return time.Now()
}

// admit decides a request with header h and body. It returns the headers for
// an admitted request, or the 429 step for a refused one. Called under the
// server's lock, so requests are decided in arrival order.
func (l *limits) admit(h http.Header, body []byte) (http.Header, *Step) {
	now := l.now()
	cred := h.Get("Authorization")
	if cred == "" {
		cred = h.Get("X-Api-Key")
	}
	qs := l.keys[cred]
	if qs == nil {
		qs = make([]quotaState, len(l.spec.Quotas)+len(l.spec.Announced))
		for i, q := range append(l.spec.Quotas[:len(l.spec.Quotas):len(l.spec.Quotas)], l.spec.Announced...) {
			qs[i] = quotaState{tokens: float64(q.Limit), last: now}
		}
		l.keys[cred] = qs
	}
	shown := qs[len(l.spec.Quotas):] // the Announced quotas' states
	for i, q := range l.spec.Announced {
		shown[i].advance(q, now)
	}
	cost := requestCost(body)
	var wait time.Duration
	refused, tooLarge := false, false
	for i, q := range l.spec.Quotas {
		qs[i].advance(q, now)
		c := cost.of(q.Unit)
		if c > q.Limit {
			refused, tooLarge = true, true
			continue
		}
		if w := qs[i].wait(q, now, c); w > 0 {
			refused = true
			wait = max(wait, w)
		}
	}
	if !refused {
		for i, q := range l.spec.Quotas {
			qs[i].take(q, cost.of(q.Unit))
		}
		for i, q := range l.spec.Announced {
			shown[i].take(q, cost.of(q.Unit))
		}
		l.admitted++
		if l.spec.only429 {
			return nil, nil
		}
		return l.headers(qs, now, false), nil
	}
	l.refused++
	if tooLarge {
		wait = 0 // never admitted: there is no wait to advise
	}
	step := l.refusal(wait, tooLarge)
	for k, v := range l.headers(qs, now, true) {
		step.Header[k] = v
	}
	return nil, &step
}

// advance brings a quota's state to now: a bucket refills, a window rolls over.
func (st *quotaState) advance(q Quota, now time.Time) {
	if q.Window {
		if start := windowStart(q, now); !start.Equal(st.start) {
			st.start, st.used = start, 0
		}
		return
	}
	if now.After(st.last) {
		st.tokens = math.Min(float64(q.Limit), st.tokens+now.Sub(st.last).Seconds()*q.Rate())
		st.last = now
	}
}

func windowStart(q Quota, now time.Time) time.Time {
	if q.Per <= 0 {
		return time.Time{}
	}
	return now.UTC().Truncate(q.Per)
}

// wait is how long until the quota has room for cost; 0 if it has now.
func (st *quotaState) wait(q Quota, now time.Time, cost int) time.Duration {
	if q.Window {
		if st.used+cost <= q.Limit {
			return 0
		}
		return st.start.Add(q.Per).Sub(now)
	}
	if st.tokens >= float64(cost) {
		return 0
	}
	return seconds((float64(cost) - st.tokens) / q.Rate())
}

func (st *quotaState) take(q Quota, cost int) {
	if q.Window {
		st.used += cost
		return
	}
	st.tokens -= float64(cost)
}

// remaining is what the quota has left, rounded down.
func (st *quotaState) remaining(q Quota) int {
	if q.Window {
		return max(q.Limit-st.used, 0)
	}
	return max(int(st.tokens), 0)
}

// reset is when the quota is whole again: a bucket full (OpenAI: "resets to
// its initial state"; Anthropic: "fully replenished"), a window over.
func (st *quotaState) reset(q Quota, now time.Time) time.Time {
	if q.Window {
		return st.start.Add(q.Per)
	}
	return now.Add(seconds((float64(q.Limit) - st.tokens) / q.Rate()))
}

// seconds converts to a duration rounded up to the millisecond, so that a
// client waiting for it is never early.
func seconds(s float64) time.Duration {
	ns := math.Round(s * 1e9) // to the nanosecond first, so float noise does not add a millisecond
	return time.Duration(math.Ceil(ns/1e6)) * time.Millisecond
}

// advisedWait reads the wait a step tells the client: Retry-After-Ms, else
// Retry-After in seconds; 0 if none.
func advisedWait(h http.Header) time.Duration {
	if v, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && v > 0 {
		return time.Duration(v * float64(time.Millisecond))
	}
	if v, err := strconv.Atoi(h.Get("Retry-After")); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return 0
}
