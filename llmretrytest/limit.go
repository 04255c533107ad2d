package llmretrytest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Limit makes the server enforce a rate limit, as providers do per API key:
// a token bucket of burst requests refilled at perSecond for each credential
// (the Authorization or X-Api-Key value), answering the dialect's 429 when
// empty. Every answer carries OpenAI-style headers
// (X-RateLimit-Limit-Requests, -Remaining-Requests, -Reset-Requests as the
// time until the bucket is full); a 429 also carries Retry-After (whole
// seconds, rounded up) and Retry-After-Ms. perSecond ≤ 0 removes the limit.
// Scripted steps bypass the limit.
func (s *Server) Limit(perSecond float64, burst int, d Dialect) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialect = d
	if perSecond <= 0 {
		s.limit = nil
		return
	}
	s.limit = &limits{rate: perSecond, burst: float64(max(burst, 1)), keys: map[string]*limiter{}}
}

// limits holds the token bucket of each credential.
type limits struct {
	rate, burst float64
	keys        map[string]*limiter
}

// admit takes a token from the bucket of the request's credential.
func (l *limits) admit(h http.Header, now time.Time, d Dialect) (http.Header, *Step) {
	cred := h.Get("Authorization")
	if cred == "" {
		cred = h.Get("X-Api-Key")
	}
	b := l.keys[cred]
	if b == nil {
		b = &limiter{rate: l.rate, burst: l.burst, tokens: l.burst, last: now}
		l.keys[cred] = b
	}
	return b.admit(now, d)
}

// limiter is the server's token bucket.
type limiter struct {
	rate, burst, tokens float64
	last                time.Time
}

// admit takes a token for a request arriving at now. It returns the rate
// headers for an admitted request, or the 429 step for a refused one.
func (l *limiter) admit(now time.Time, d Dialect) (http.Header, *Step) {
	if now.After(l.last) {
		l.tokens = math.Min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
	}
	h := http.Header{}
	h.Set("X-Ratelimit-Limit-Requests", strconv.Itoa(int(l.burst)))
	if l.tokens >= 1 {
		l.tokens--
		h.Set("X-Ratelimit-Remaining-Requests", strconv.Itoa(int(l.tokens)))
		h.Set("X-Ratelimit-Reset-Requests", seconds((l.burst-l.tokens)/l.rate).String())
		return h, nil
	}
	wait := seconds((1 - l.tokens) / l.rate)
	h.Set("X-Ratelimit-Remaining-Requests", "0")
	h.Set("X-Ratelimit-Reset-Requests", seconds((l.burst-l.tokens)/l.rate).String())
	step := d.RateLimit(int(math.Ceil(wait.Seconds())))
	for k, v := range h {
		step.Header[k] = v
	}
	step.Header.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	step.Header.Set("Retry-After-Ms", strconv.FormatInt(int64(math.Ceil(float64(wait)/float64(time.Millisecond))), 10))
	return nil, &step
}

// seconds converts to a duration rounded up to the millisecond, so that a
// client waiting for it is never early.
func seconds(s float64) time.Duration {
	return time.Duration(math.Ceil(s*1000)) * time.Millisecond
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
