package llmretrytest

import (
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// headerSet names the rate-limit headers a LimitSpec writes. Where one name
// would serve two announced quotas, the first quota in the spec has it.
type headerSet uint8

const (
	// noHeaders writes no rate-limit headers.
	noHeaders headerSet = iota
	// openAIHeaders writes x-ratelimit-limit-requests, -remaining-requests,
	// -reset-requests and the same for -tokens (requests and tokens quotas
	// only). OpenAI's reference: "x-ratelimit-reset-requests | 1s | The time
	// until the rate limit (based on requests) resets to its initial state",
	// "x-ratelimit-reset-tokens | 6m0s"; Groq writes the same names.
	openAIHeaders
	// xRateLimitHeaders writes X-RateLimit-Limit, -Remaining and -Reset for
	// the first announced quota, as GitHub ("x-ratelimit-reset | The time
	// at which the current rate limit window resets in UTC epoch seconds")
	// and Cencori ("X-RateLimit-Reset: Unix timestamp when limit resets") do.
	// Those names count requests; a tokens quota is written with the unit
	// named, X-RateLimit-Limit-Tokens and so on, as the APIs that limit
	// tokens name it.
	xRateLimitHeaders
	// cerebrasHeaders writes x-ratelimit-limit-requests-day,
	// x-ratelimit-remaining-tokens-minute, x-ratelimit-reset-tokens-minute…:
	// unit and period in the name (-second, -minute, -hour, -day, from the
	// quota's Per). Cerebras: "x-ratelimit-reset-requests-day | Time (in
	// seconds) until your daily request limit resets", with values such as
	// "33011.382867097855".
	cerebrasHeaders
	// anthropicHeaders writes anthropic-ratelimit-requests-limit,
	// -remaining, -reset and the same for tokens, input-tokens and
	// output-tokens. Anthropic: "anthropic-ratelimit-requests-reset | The
	// time when the request rate limit will be fully replenished, provided
	// in RFC 3339 format."
	anthropicHeaders
	// ietfHeaders writes RateLimit-Limit, RateLimit-Remaining and
	// RateLimit-Reset (the IETF httpapi draft, GitLab) for the first
	// announced quota.
	ietfHeaders
)

// resetFormat is how a reset time is written. A bucket resets when it is
// full again, a window when it ends.
type resetFormat uint8

const (
	// resetDuration writes a Go duration rounded up to the millisecond:
	// "1.5s", "6m0s", "17ms" (OpenAI, Groq).
	resetDuration resetFormat = iota
	// resetSeconds writes the seconds until the reset with a fraction:
	// "11.382867097854614" (Cerebras).
	resetSeconds
	// resetDeltaSeconds writes whole seconds until the reset, rounded up
	// (the IETF draft's delta-seconds).
	resetDeltaSeconds
	// resetUnix writes the reset's Unix time in whole seconds, rounded up
	// (GitHub, Cencori).
	resetUnix
	// resetUnixMillis writes the reset's Unix time in milliseconds,
	// rounded up.
	resetUnixMillis
	// resetRFC3339 writes the reset as an RFC 3339 UTC timestamp in whole
	// seconds, rounded up: "2025-08-21T12:40:59Z" (Anthropic).
	resetRFC3339
)

// hintSet is a set of wait hints a 429 carries.
type hintSet uint8

const (
	// hintRetryAfter sends Retry-After in whole seconds, rounded up (RFC 9110
	// delta-seconds; Anthropic: "retry-after | The number of seconds to
	// wait until you can retry the request. Earlier retries will fail.").
	hintRetryAfter hintSet = 1 << iota
	// hintRetryAfterMs sends retry-after-ms in milliseconds, rounded up, as
	// OpenAI-compatible servers do for the OpenAI SDKs.
	hintRetryAfterMs
)

// headers writes the rate-limit headers for the quotas' state at now, on a
// 429 if refused. With Announced quotas, they are written instead of the
// enforced ones, and a 429 says none is left in them.
func (l *limits) headers(qs []quotaState, now time.Time, refused bool) http.Header {
	h := http.Header{}
	quotas := l.spec.Quotas
	if len(l.spec.Announced) > 0 {
		quotas, qs = l.spec.Announced, qs[len(l.spec.Quotas):]
	}
	for i, q := range quotas {
		if q.Silent {
			continue
		}
		limit, remaining, reset := l.names(q)
		if limit == "" || h.Get(remaining) != "" || l.spec.headers == xRateLimitHeaders && len(h) > 0 {
			continue // xRateLimitHeaders: the first announced quota only
		}
		left := qs[i].remaining(q)
		if refused && len(l.spec.Announced) > 0 {
			left = 0
		}
		h.Set(limit, strconv.Itoa(q.Limit))
		h.Set(remaining, strconv.Itoa(left))
		h.Set(reset, formatReset(l.spec.reset, qs[i].reset(q, now), now))
	}
	return h
}

// names returns the limit, remaining and reset header names for q, or "".
func (l *limits) names(q Quota) (limit, remaining, reset string) {
	u := q.Unit.String()
	switch l.spec.headers {
	case openAIHeaders:
		if q.Unit != Requests && q.Unit != Tokens {
			return "", "", ""
		}
		return "X-Ratelimit-Limit-" + u, "X-Ratelimit-Remaining-" + u, "X-Ratelimit-Reset-" + u
	case xRateLimitHeaders:
		if q.Unit != Requests {
			return "X-Ratelimit-Limit-" + u, "X-Ratelimit-Remaining-" + u, "X-Ratelimit-Reset-" + u
		}
		return "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"
	case ietfHeaders:
		return "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"
	case cerebrasHeaders:
		if q.Unit != Requests && q.Unit != Tokens {
			return "", "", ""
		}
		p := u + "-" + periodName(q.Per)
		return "X-Ratelimit-Limit-" + p, "X-Ratelimit-Remaining-" + p, "X-Ratelimit-Reset-" + p
	case anthropicHeaders:
		p := "Anthropic-Ratelimit-" + u
		return p + "-Limit", p + "-Remaining", p + "-Reset"
	}
	return "", "", ""
}

// periodName names a period as Cerebras's headers do.
func periodName(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return "day"
	case d >= time.Hour:
		return "hour"
	case d >= time.Minute:
		return "minute"
	}
	return "second"
}

// formatReset writes the reset time at in format f, never earlier than at.
func formatReset(f resetFormat, at, now time.Time) string {
	d := max(at.Sub(now), 0)
	switch f {
	case resetSeconds:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	case resetDeltaSeconds:
		return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
	case resetUnix:
		return strconv.FormatInt(ceilTime(at, time.Second).Unix(), 10)
	case resetUnixMillis:
		return strconv.FormatInt(ceilTime(at, time.Millisecond).UnixMilli(), 10)
	case resetRFC3339:
		return ceilTime(at, time.Second).UTC().Format(time.RFC3339)
	}
	return seconds(d.Seconds()).String()
}

// ceilTime rounds t up to a multiple of unit.
func ceilTime(t time.Time, unit time.Duration) time.Time {
	if r := t.Truncate(unit); !r.Equal(t) {
		return r.Add(unit)
	}
	return t
}

// refusal is the 429 for a request refused for wait (0: it never fits).
func (l *limits) refusal(wait time.Duration, tooLarge bool) Step {
	d := l.spec.Dialect
	secs := int(math.Ceil(wait.Seconds()))
	var step Step
	switch {
	case tooLarge:
		step = d.Error(ErrorReply{Status: http.StatusTooManyRequests, Type: "tokens", Code: "rate_limit_exceeded",
			Message: "Request too large for tokens per min (TPM): the request is larger than the limit."})
	case l.spec.bodyHint:
		step = d.RateLimit(max(secs, 1))
	default:
		step = quietRateLimit(d)
	}
	step.Header.Del("Retry-After")
	if wait > 0 && l.spec.hints&hintRetryAfter != 0 {
		step.Header.Set("Retry-After", strconv.Itoa(secs))
	}
	if wait > 0 && l.spec.hints&hintRetryAfterMs != 0 {
		step.Header.Set("Retry-After-Ms", strconv.FormatInt(int64(math.Ceil(float64(wait)/float64(time.Millisecond))), 10))
	}
	return step
}

// waitPhrase is a sentence of a message that names a wait ("Please retry in
// 12s.", "come back in 3s.").
var waitPhrase = regexp.MustCompile(`(?i)[^.\n]*\b(retry|try again|come back|wait)\b[^.\n]*\d[^.\n]*\.?`)

// quietRateLimit is the dialect's 429 with no wait anywhere in its body: its
// usual answer without the wait hint and without the sentence naming it.
func quietRateLimit(d Dialect) Step {
	e := ErrorReply{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached for requests."}
	if f := d.format(); f.rateLimit != nil {
		if r := f.rateLimit(1); r != nil {
			e = *r
		}
	}
	e.RetryAfter = 0
	e.Message = strings.TrimSpace(waitPhrase.ReplaceAllString(e.Message, ""))
	return d.Error(e)
}
