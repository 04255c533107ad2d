package llmretry

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A pool spreads a policy's requests over equivalent targets (Policy.Pool).
// The choice is a schedule kept per target: due is when the target's pace,
// as this Transport sees it, is next free, and share the turns it has
// taken, in seconds of its pace. Each attempt goes to the target whose turn
// comes first, after its pause and its cooldown; among the targets free at
// once, to the one with the least share. Either way the target's due and
// share move on by one request at its pace (its pacer's configured or
// learned limits, times its Weight). A Transport that keeps its targets
// busy thus sends each attempt where it waits least; one that does not
// (one of many processes sharing the targets through redislimit) splits
// its requests in proportion to the targets' paces, as every other process
// does, so that the fleet's load is split so too. The pacer of the chosen
// target still paces the attempt: the schedule only spreads the load, and
// a target's limits hold whatever the choice.

// poolState is what a Transport knows of a policy's pool, shared by all its
// requests.
type poolState struct {
	mu       sync.Mutex // guards members: a choice and its turn are one step
	members  []poolMember
	derived  []*Policy    // the policies of members without one, made on first use: swept with the state, unlike a fallback's
	lastUsed atomic.Int64 // Unix nanoseconds of the last request
}

// poolMember is the state of one target of a pool.
type poolMember struct {
	due   time.Time // when its pace is next free for one more request
	share float64   // the turns it took, in seconds of its pace: among members free now, the least goes first
	step  float64   // the seconds of its pace its last turn took
	cool  time.Time // until when it is cooled down after a failure or a 429
	fails int       // failures in a row since its last success
}

// Cooldowns: a failing target is left alone for coolBase, doubling with each
// failure in a row up to coolMax; when it ends, one request probes it (the
// others wait for its answer, for a cooldown more at most). coolMax bounds
// how long a target that recovered stays unused.
const (
	coolBase = 250 * time.Millisecond
	coolMax  = time.Second
)

// unknownPace is the pace assumed for a target with no limit configured or
// learned yet: fast, so that its first answers (which teach its limits)
// come soon, and shared among such targets by weight.
const unknownPace = 1000.0 // requests per second

// errPoolFit says that a request fits no target of its policy's pool.
var errPoolFit = errors.New("llmretry: the request fits no target of the policy's Pool (each has a negative Weight, or a Model or BaseURL the request cannot take)")

// errPoolBody says that a request for a pool cannot be sent again.
var errPoolBody = errors.New("llmretry: a request under a Policy with a Pool needs a body that can be sent again (GetBody, or at most Transport.MaxBodyBuffer bytes)")

// pool returns the pool state of pol.
func (t *Transport) pool(pol *Policy) *poolState {
	now := t.clock()
	s, ok := t.pools.load(pol)
	if !ok {
		s = t.pools.loadOrStore(pol, func() *poolState {
			return &poolState{members: make([]poolMember, len(pol.Pool)), derived: make([]*Policy, len(pol.Pool))}
		}, func(s *poolState) bool { return now.UnixNano()-s.lastUsed.Load() > int64(pacerIdle) }, now)
	}
	s.lastUsed.Store(now.UnixNano())
	return s
}

// joinPool sends the call's attempts to its policy's pool: it makes a
// route for each target the request fits, and enters the one chosen for
// the first attempt. The caller's body is closed: attempts send copies.
func (t *Transport) joinPool(c *call) error {
	orig := c.body.first // an unread reader of the request's body, for targets that send it as it is
	if orig == nil {
		orig = c.req.Body
	}
	closeBody(c.body.first) // the buffered body's reader, or the caller's body behind it
	if c.body.first == nil {
		closeBody(c.req.Body) // never sent: attempts send copies from GetBody
	}
	c.body.first = nil
	if !c.body.replayable {
		return &requestError{msg: "llmretry", err: errPoolBody}
	}
	c.poolOf = t.pool(c.pol)
	c.members = make([]route, min(len(c.pol.Pool), len(c.poolOf.members))) // a Pool grown after use (not allowed) is not read past its state
	fits := false
	for i := range c.members {
		fb := &c.pol.Pool[i]
		if fb.Weight < 0 {
			continue
		}
		r, get, err := targetRequest(c.orig, c.origBody, t.maxBodyBuffer(), fb, true)
		if err != nil {
			continue
		}
		m := &c.members[i]
		*m = route{name: memberName(fb, i), away: fb.BaseURL != "", req: r,
			pol: t.memberPolicy(c.poolOf, c.pol, i, r)}
		var first io.Reader // the body that get gives, unread (scanned in place if in memory)
		if fb.Model == "" {
			first = orig
		}
		t.setup(m, get, c.opts, first)
		fits = true
	}
	if !fits {
		return &requestError{msg: "llmretry", err: errPoolFit}
	}
	c.member = -1
	first, err := t.toMember(c, t.clock())
	if err != nil {
		return err
	}
	c.body.first = first
	return nil
}

// memberPolicy returns the policy of target i of pol's pool s, sent as r:
// its own, or the one derived for it, kept in s. Kept there, not with the
// fallbacks' (which are never swept), it goes with s when s goes idle: a
// Transport given a new Policy with a Pool per request holds a bounded
// number of them.
func (t *Transport) memberPolicy(s *poolState, pol *Policy, i int, r *http.Request) *Policy {
	fb := &pol.Pool[i]
	if fb.Policy != nil {
		return fb.Policy
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.derived[i] == nil {
		s.derived[i] = t.derivePolicy(pol, fb, r)
	}
	return s.derived[i]
}

// memberName is the name of target i of a pool.
func memberName(fb *Target, i int) string {
	if fb.Name == "" && fb.Model == "" && fb.BaseURL == "" {
		return "pool-" + strconv.Itoa(i)
	}
	return fb.name()
}

// toMember makes the pool's choice for the call's next attempt at now and
// enters it: its route, with the call's attempts counted so far, and the
// body of its next attempt (nil for a request without one). The same
// target is not entered again: its body is nil.
func (t *Transport) toMember(c *call, now time.Time) (io.ReadCloser, error) {
	i := c.poolOf.pick(c.primary.Pool, c.members, c.tried, now)
	if i == c.member {
		return nil, nil
	}
	tries := c.tries
	c.member = i
	c.route = c.members[i]
	c.again = false // the left target's key's evidence (call.again)
	c.watched = false
	c.tries = tries
	c.body = replayBody{get: c.route.get, replayable: true}
	if c.body.get == nil {
		return nil, nil
	}
	b, err := c.body.get()
	if err != nil {
		return nil, &requestError{msg: "llmretry: rewinding request body", err: err}
	}
	return b, nil
}

// repick chooses the pool's target for a retry, r: on another target, r's
// body is closed and the retry goes with that target's request and body.
func (t *Transport) repick(c *call, r *http.Request) (*http.Request, error) {
	before := c.member
	first, err := t.toMember(c, t.clock())
	if c.member == before || err != nil {
		closeBody(first)
		return r, err // the caller closes r's body with the error
	}
	closeBody(r.Body)
	if err != nil {
		return r, err
	}
	return c.retryRequest(first), nil
}

// ready reports whether the member, paced by p, is neither cooling down nor
// paused by its server at now.
func (m *poolMember) ready(now time.Time, p *pacer) bool {
	return !m.cool.After(now) && (p == nil || p.resumeAt(now) <= now.UnixNano())
}

// start is when member i can send its next request at now: after its
// pause, its cooldown and its turn.
func (m *poolMember) start(now time.Time, p *pacer) time.Time {
	s := now
	if p != nil {
		if u := time.Unix(0, p.resumeAt(now)); u.After(s) {
			s = u
		}
	}
	if m.cool.After(s) {
		s = m.cool
	}
	if m.due.After(s) {
		s = m.due
	}
	return s
}

// peek returns, s.mu held, the member of routes (the call's routes to
// targets; nil pacer and policy for a target the request does not fit)
// whose turn comes first at now; ties go to the first listed. Members in
// failed (a bit per member: they failed this request) are passed over
// while another is ready (see ready): a retry moves on.
func (s *poolState) peek(targets []Target, routes []route, failed uint64, now time.Time) int {
	best, bestAt, bestFree := -1, time.Time{}, false
	for i := range routes {
		if routes[i].pol == nil || failed != 0 && (i < 64 && failed&(1<<i) != 0 || !s.members[i].ready(now, routes[i].pacer)) {
			continue
		}
		at := s.members[i].start(now, routes[i].pacer)
		free := !at.After(now)
		switch {
		case best < 0,
			free && !bestFree,
			free && bestFree && s.members[i].share < s.members[best].share,
			!free && !bestFree && at.Before(bestAt):
			best, bestAt, bestFree = i, at, free
		}
	}
	if best < 0 && failed != 0 {
		return s.peek(targets, routes, 0, now) // none ready that it has not failed on: the one whose turn comes first
	}
	return best
}

// pick chooses the member for an attempt at now, as peek does, and takes its
// turn.
func (s *poolState) pick(targets []Target, routes []route, failed uint64, now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.peek(targets, routes, failed, now)
	s.take(targets, routes, i, now)
	return i
}

// take takes, s.mu held, member i's turn for one request at now: its due moves on by
// one request at its pace; if it is failing, its cooldown starts again, so
// that one request at a time probes it.
func (s *poolState) take(targets []Target, routes []route, i int, now time.Time) {
	m := &s.members[i]
	rt := &routes[i]
	step := memberStep(rt, targets[i].Weight, now)
	// The turn is taken after the pause, which the pacer waits out, but not
	// after the cooldown: a request chosen for a cooling target (a probe, or
	// every target cooling) goes at once.
	at := maxTime(now, m.due)
	if rt.pacer != nil {
		at = maxTime(at, time.Unix(0, rt.pacer.resumeAt(now)))
	}
	m.due = at.Add(step)
	m.step = step.Seconds()
	m.share = max(m.share, s.minShare(routes, i, now)) + m.step
	if m.fails > 0 && !m.cool.After(now) {
		m.cool = now.Add(coolFor(m.fails))
	}
}

// minShare is, s.mu held, the least share a member i may have at now: a
// turn behind the least of the other ready members of routes. A member that
// comes back from a cooldown, or that fit no request for a while, starts
// there, without a backlog of turns; the others, which take turns in
// proportion, are never that far behind.
func (s *poolState) minShare(routes []route, i int, now time.Time) float64 {
	least, slack, ok := 0.0, s.members[i].step, false
	for j := range routes {
		m := &s.members[j]
		if j == i || routes[j].pol == nil || !m.ready(now, routes[j].pacer) {
			continue
		}
		slack = max(slack, m.step)
		if !ok || m.share < least {
			least, ok = m.share, true
		}
	}
	if !ok {
		return 0
	}
	return least - slack
}

// memberStep is the time one request of rt takes of its target's pace at
// now (its requests' and tokens' limits, configured or learned), over its
// weight.
func memberStep(rt *route, weight float64, now time.Time) time.Duration {
	if weight <= 0 {
		weight = 1
	}
	secs := 1 / unknownPace
	if rt.pacer != nil {
		lim, _ := rt.pacer.limit(now)
		known := false
		if lim.RequestRate > 0 {
			secs, known = 1/float64(lim.RequestRate), true
		}
		if lim.TokenRate > 0 {
			if t := float64(max(rt.cost, 1)) / float64(lim.TokenRate); !known || t > secs {
				secs = t
			}
		}
	}
	// A tiny weight or pace would overflow a Duration into a negative step,
	// a target always first: it is capped at the longest plausible wait.
	return time.Duration(min(secs/weight, maxPlausibleHint.Seconds()) * float64(time.Second))
}

// coolFor is the cooldown after fails failures in a row.
func coolFor(fails int) time.Duration {
	d := coolBase
	for ; fails > 1 && d < coolMax; fails-- {
		d *= 2
	}
	return min(d, coolMax)
}

// saw records what an attempt on member i got at now: a success ends its
// cooldown; a failure of the target (overloaded, a server error, a timeout,
// no connection) cools it down, longer with each in a row; a rate limit
// cools it until the end of the server's hint (a short cooldown without one),
// since its pacer, which pauses the key, ignores a hint beyond MaxWait.
func (s *poolState) saw(i int, v Verdict, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.members[i]
	switch v.Class {
	case ClassOK:
		m.fails, m.cool = 0, time.Time{}
	case ClassOverloaded, ClassModelOverloaded, ClassServerError, ClassTimeout, ClassConnection, ClassQuotaExhausted:
		m.fails++
		m.cool = maxTime(m.cool, now.Add(coolFor(m.fails)))
	case ClassRateLimited:
		d := coolBase
		if v.RetryAfter > 0 {
			d = v.RetryAfter
		}
		m.cool = maxTime(m.cool, now.Add(d))
	}
}

// readyIn returns how long from now until a target of the pool other than
// failed is ready: neither paused by its server nor cooling down (0: one is
// ready now), and false if the pool has no other target. A retry then goes
// to the pool's choice at once, or when that target is ready if sooner than
// the failed target's hint or backoff.
func (s *poolState) readyIn(routes []route, failed int, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var least time.Duration
	ok := false
	for i := range routes {
		if routes[i].pol == nil || i == failed {
			continue
		}
		at := s.members[i].cool
		if p := routes[i].pacer; p != nil {
			at = maxTime(at, time.Unix(0, p.resumeAt(now)))
		}
		if d := max(at.Sub(now), 0); !ok || d < least {
			least, ok = d, true
		}
	}
	return least, ok
}

// sawPool tells the call's pool what its attempt got at now, and notes a
// target that failed the request, which its retries pass over.
func (c *call) sawPool(v Verdict, now time.Time) {
	if c.poolOf == nil {
		return
	}
	c.poolOf.saw(c.member, v, now)
	if v.Class != ClassOK && (v.Retryable || v.Class == ClassQuotaExhausted) && c.member < 64 {
		c.tried |= 1 << c.member
	}
}

// quotaMovesOn reports whether an answer v, not retryable, is a pool
// target's exhausted quota with another target ready now: the quota is the
// target's (its key's billing), not the request's, so the request moves on.
func (c *call) quotaMovesOn(v Verdict, now time.Time) bool {
	if v.Class != ClassQuotaExhausted {
		return false
	}
	d, ok := c.poolReadyIn(now)
	return ok && d == 0
}

// poolReadyIn returns how long from now until another target of the call's
// pool is ready, if it has one (see poolState.readyIn).
func (c *call) poolReadyIn(now time.Time) (time.Duration, bool) {
	if c.poolOf == nil {
		return 0, false
	}
	return c.poolOf.readyIn(c.members, c.member, now)
}

// pool returns p's Pool; nil for a nil p.
func (p *Policy) pool() []Target {
	if p == nil {
		return nil
	}
	return p.Pool
}
