package llmretry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// probeTimeout bounds how long requests on a new key wait for the first
// response's rate-limit headers before going anyway.
const probeTimeout = time.Second

// learnedHeadroom is the share of a learned rate that is used, leaving room
// for the clock skew and network jitter between us and the server.
const learnedHeadroom = 0.97

// configuredHeadroom is the share of a configured rate that is used: sending
// exactly at the provider's limit turns any network jitter into 429s.
const configuredHeadroom = 0.99

// pacerSet holds a Transport's pacers, one per policy and credential.
type pacerSet struct {
	seedOnce sync.Once
	seed     maphash.Seed
	mem      MemoryLimiter // the buckets of policies without a Limiter
	m        lazyMap[pacerID, pacer]
}

type pacerID struct {
	pol  *Policy
	cred uint64 // maphash of the credential: never the credential
}

// credential returns the request's API credential, or "". Headers set with
// Header.Set are canonical, so direct lookups find them without Get's
// canonicalization; keys set by hand in another case are found by a scan.
func credential(h http.Header) string {
	for _, name := range credentialHeaders {
		if v := header(h, name); v != "" {
			return v
		}
	}
	for k, vs := range h {
		for _, name := range credentialHeaders {
			if len(vs) > 0 && vs[0] != "" && strings.EqualFold(k, name) {
				return vs[0]
			}
		}
	}
	return ""
}

// get returns the pacer for the request's policy and credential, or nil if
// the policy neither configures limits nor learns them.
func (s *pacerSet) get(t *Transport, pol *Policy, req *http.Request) *pacer {
	if pol == nil || (!pol.Limits.configured() && pol.Limits.DisableLearning) {
		return nil
	}
	s.seedOnce.Do(func() {
		s.seed = maphash.MakeSeed()
		s.mem.now, s.mem.sleep = t.now, t.sleep
	})
	cred := credential(req.Header)
	id := pacerID{pol: pol, cred: maphash.String(s.seed, cred)}
	if p, ok := s.m.load(id); ok {
		return p
	}
	return s.m.loadOrStore(id, newPacer(pol, pacingKey(pol, cred), &s.mem))
}

// pacingKey names a policy and credential for a Limiter: the credential
// appears only as a truncated SHA-256, the same in every process.
func pacingKey(pol *Policy, cred string) string {
	if cred == "" {
		return pol.name() + ":anonymous"
	}
	sum := sha256.Sum256([]byte(cred))
	return pol.name() + ":" + hex.EncodeToString(sum[:8])
}

// pacer paces the requests of one key: configured limits, limits learned
// from headers, a probe of a new key, an adaptive rate after 429s without
// hints, and a cap on requests in flight.
type pacer struct {
	key     string
	pol     *Policy
	limiter Limiter
	config  Limit
	learn   bool

	inflight chan struct{} // a semaphore; nil without MaxInFlight

	ready    chan struct{} // closed once the first response has been seen
	readyOne sync.Once
	probing  atomic.Bool

	mu      sync.Mutex // guards the fields below
	learned Limit      // from headers
	readReq readings   // recent request-rate readings
	readTok readings   // recent token-rate readings
	cutRate float64    // adaptive requests/s set by the last cut; 0 when off
	lastCut time.Time
	window  successWindow
}

func newPacer(pol *Policy, key string, mem *MemoryLimiter) *pacer {
	p := &pacer{key: key, pol: pol, limiter: pol.Limits.Limiter, config: pol.Limits.limit(),
		learn: !pol.Limits.DisableLearning, ready: make(chan struct{})}
	if p.limiter == nil {
		p.limiter = mem
	}
	if n := pol.Limits.MaxInFlight; n > 0 {
		p.inflight = make(chan struct{}, n)
	}
	if !p.learn || p.config.RequestRate > 0 {
		p.markReady()
	}
	return p
}

func (p *pacer) markReady() { p.readyOne.Do(func() { close(p.ready) }) }

// acquire blocks until a request costing tokens may go, and takes its tokens (and its in-flight slot).
func (p *pacer) acquire(ctx context.Context, tokens int, now time.Time) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.ready:
	default:
		// A new key: the first request goes alone and its response's
		// rate-limit headers tell the others how fast to go.
		if !p.probing.CompareAndSwap(false, true) {
			t := time.NewTimer(probeTimeout)
			select {
			case <-p.ready:
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
			t.Stop()
		}
	}
	if p.inflight != nil {
		select {
		case p.inflight <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := p.limiter.Wait(ctx, p.key, p.limit(now), tokens); err != nil {
		p.release()
		return err
	}
	return nil
}

// release frees the request's in-flight slot.
func (p *pacer) release() {
	if p == nil {
		return
	}
	if p.inflight != nil {
		<-p.inflight
	}
}

// limit is the pace in force at now: configured dimensions win over learned
// ones, and the adaptive rate caps the learned request rate.
func (p *pacer) limit(now time.Time) Limit {
	if !p.learn {
		return p.config
	}
	p.mu.Lock()
	lim := p.learned
	if a := p.adaptive(now); a > 0 && (lim.RequestRate <= 0 || rate.Limit(a) < lim.RequestRate) {
		lim.RequestRate, lim.RequestBurst = rate.Limit(a), 1
	}
	p.mu.Unlock()
	if p.config.RequestRate > 0 {
		lim.RequestRate, lim.RequestBurst = p.config.RequestRate, p.config.RequestBurst
	}
	if p.config.TokenRate > 0 {
		lim.TokenRate, lim.TokenBurst = p.config.TokenRate, p.config.TokenBurst
	}
	return lim
}

// pacesTokens reports whether requests need a token cost estimate.
func (p *pacer) pacesTokens() bool {
	if p.config.TokenRate > 0 {
		return true
	}
	if !p.learn {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.learned.TokenRate > 0
}

// observe learns from an attempt's outcome.
func (p *pacer) observe(ctx context.Context, resp *http.Response, v Verdict, now time.Time) {
	if p == nil {
		return
	}
	p.markReady()
	if v.Class == RateLimited && v.Hint != NoHint && v.RetryAfter > 0 {
		p.pause(ctx, now, v.RetryAfter)
	}
	var reqs, toks limitHeaders
	if resp != nil {
		h := resp.Header
		reqs = readLimitHeaders(h, hdrRateLimitLimitReqs, hdrRateLimitRemainReqs, hdrRateLimitResetReqs, now)
		if !reqs.ok {
			reqs = readLimitHeaders(h, hdrRateLimitLimit, hdrRateLimitRemaining, hdrRateLimitReset, now)
		}
		toks = readLimitHeaders(h, hdrRateLimitLimitTokens, hdrRateLimitRemainTokens, hdrRateLimitResetTokens, now)
		for _, s := range [...]limitHeaders{reqs, toks} {
			if s.ok && s.hasReset && s.remaining == 0 {
				p.pause(ctx, now, s.reset)
			}
		}
	}
	if !p.learn {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, burst, ok := reqs.rate(); ok {
		p.learned.RequestRate = p.readReq.add(r) * learnedHeadroom
		p.learned.RequestBurst = burstHeadroom(burst)
	}
	if r, burst, ok := toks.rate(); ok {
		p.learned.TokenRate = p.readTok.add(r) * learnedHeadroom
		p.learned.TokenBurst = burst
	}
	switch {
	case v.Class == RateLimited && v.Hint == NoHint && p.config.RequestRate <= 0:
		p.cut(now)
	case v.Class == OK:
		p.window.add(now)
	}
}

// pause holds every request on the key for d. A wait longer than the
// policy's MaxWait is not a pause but a refusal: like the request that got
// it, the others go on and get the server's answer at once.
func (p *pacer) pause(ctx context.Context, now time.Time, d time.Duration) {
	if d <= 0 || d > p.pol.maxWait() {
		return
	}
	p.limiter.Pause(ctx, p.key, now.Add(d))
}

// Adaptive rate after 429s without hints (multiplicative decrease, additive
// increase). Recovery depends on time, not on successes, so that a storm of
// 429s that has passed does not leave a key crawling at the rate the storm
// drove it to.
const (
	cutFactor     = 0.7              // a cut keeps 70% of the rate (as AWS SDKs' adaptive retry mode)
	cutInterval   = time.Second      // the 429s of one burst count as one cut
	regrowth      = 0.2              // after a cut, the rate grows by 20% of the cut rate a second
	adaptiveFloor = 1.0              // requests/s: cuts stop here (unless the rate was lower)
	adaptiveQuiet = 30 * time.Second // without a cut for this long, the adaptive rate is dropped
)

// adaptive is the adaptive rate at now, or 0 when it is off. p.mu is held.
func (p *pacer) adaptive(now time.Time) float64 {
	if p.cutRate <= 0 {
		return 0
	}
	since := now.Sub(p.lastCut)
	if since > adaptiveQuiet {
		return 0
	}
	return p.cutRate * (1 + regrowth*max(since.Seconds(), 0))
}

// cut lowers the adaptive rate after a 429 without a hint. p.mu is held.
func (p *pacer) cut(now time.Time) {
	if p.cutRate > 0 && now.Sub(p.lastCut) < cutInterval {
		return
	}
	cur := p.adaptive(now)
	if cur <= 0 {
		cur = float64(p.learned.RequestRate)
	}
	if cur <= 0 || math.IsInf(cur, 1) {
		cur = max(p.window.rate(now), adaptiveFloor) // what the server has been accepting
	}
	p.cutRate = max(cur*cutFactor, min(cur, adaptiveFloor))
	p.lastCut = now
}

// readings keeps the last few rate readings from headers. Each reading is an
// upper bound of the server's rate — Remaining is rounded down while the
// reset time is exact — so the smallest recent one is the best estimate, and
// old ones age out when the server's rate changes.
type readings struct {
	r [16]rate.Limit
	n int
}

// add records a reading and returns the current estimate.
func (rs *readings) add(r rate.Limit) rate.Limit {
	rs.r[rs.n%len(rs.r)] = r
	rs.n++
	est := r
	for i := 0; i < min(rs.n, len(rs.r)); i++ {
		est = min(est, rs.r[i])
	}
	return est
}

// limitHeaders is one dimension's X-RateLimit-Limit/-Remaining/-Reset.
type limitHeaders struct {
	ok, hasReset, window bool
	limit, remaining     int64
	reset                time.Duration
}

func readLimitHeaders(h http.Header, limit, remaining, reset string, now time.Time) limitHeaders {
	var s limitHeaders
	s.remaining, s.ok = parseCount(header(h, remaining))
	if !s.ok {
		return s
	}
	s.limit, _ = parseCount(header(h, limit))
	if v := header(h, reset); v != "" {
		s.reset, s.hasReset = parseReset(v, now)
		s.window = isWindowReset(v)
	}
	return s
}

// header is h.Get for a key already in canonical form: a plain map lookup,
// without Get's canonicalization, which costs more than the lookup on every
// response. Response headers parsed by net/http are stored canonically.
func header(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// isWindowReset reports whether a reset value names the end of a fixed
// window (a Unix time or a timestamp) rather than the time a token bucket
// takes to refill (a duration or delta-seconds).
func isWindowReset(v string) bool {
	v = strings.TrimSpace(v)
	if isDecimal(v) {
		return len(v) >= 10 // 1e9 and above: a Unix time
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// rate derives a rate and burst from the headers. For a token bucket
// (OpenAI's reading: reset is the time until the bucket is full again), the
// used share refills in reset: (limit−remaining)/reset. For a fixed window,
// the remaining requests are spread over what is left of it.
func (s limitHeaders) rate() (rate.Limit, int, bool) {
	if !s.ok || !s.hasReset || s.reset <= 0 {
		return 0, 0, false
	}
	sec := s.reset.Seconds()
	if s.window {
		if s.remaining == 0 {
			return 0, 0, false // the pause covers it
		}
		return rate.Limit(float64(s.remaining) / sec), 1, true
	}
	if s.limit <= 0 || s.remaining >= s.limit {
		return 0, 0, false
	}
	return rate.Limit(float64(s.limit-s.remaining) / sec), int(max(s.limit, 1)), true
}

// successWindow counts successes over the last few seconds.
type successWindow struct {
	slots [5]struct {
		sec int64
		n   int
	}
}

func (w *successWindow) add(now time.Time) {
	sec := now.Unix()
	s := &w.slots[sec%int64(len(w.slots))]
	if s.sec != sec {
		s.sec, s.n = sec, 0
	}
	s.n++
}

// rate is successes per second over the last full seconds.
func (w *successWindow) rate(now time.Time) float64 {
	sec := now.Unix()
	n := 0
	for _, s := range w.slots {
		if s.sec < sec && s.sec >= sec-int64(len(w.slots)-1) {
			n += s.n
		}
	}
	return float64(n) / float64(len(w.slots)-1)
}

// cost estimates the tokens of a request for the token bucket.
func (p *pacer) cost(req *http.Request, body replayBody, maxBody int64) int {
	if p == nil {
		return 1
	}
	if !p.pacesTokens() {
		return 1
	}
	var b []byte
	if body.get != nil {
		if rc, err := body.get(); err == nil {
			b, _ = io.ReadAll(io.LimitReader(rc, max(maxBody, DefaultMaxBodyBuffer)))
			rc.Close()
		}
	}
	if f := p.pol.Limits.Cost; f != nil {
		return max(f(req, b), 1)
	}
	if b == nil && req.ContentLength > 0 {
		return int(req.ContentLength/4) + 1
	}
	return EstimateTokens(b)
}
