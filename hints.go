package llmretry

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Header names read for wait hints and rate-limit state, canonicalized.
const (
	hdrRetryAfter     = "Retry-After"
	hdrRetryAfterMS   = "Retry-After-Ms"
	hdrMSRetryAfterMS = "X-Ms-Retry-After-Ms" // Azure
	hdrAmznErrorType  = "X-Amzn-Errortype"    // AWS: the exception name
	hdrRateLimitReset = "X-Ratelimit-Reset"
	hdrShouldRetry    = "X-Should-Retry"
)

// Where a [Verdict]'s RetryAfter came from: the values of Verdict.Hint,
// in the order of precedence documented there.
const (
	noHint           = ""               // no hint: RetryAfter is 0
	hintRetryAfterMS = "retry-after-ms" // retry-after-ms or x-ms-retry-after-ms: milliseconds
	hintRetryAfter   = "retry-after"    // Retry-After: delta-seconds or HTTP-date
	hintBody         = "body"           // the error body: retry_after, Google RetryInfo, OpenRouter's metadata.headers
	hintReset        = "reset"          // the rate-limit headers' reset of the exhausted limit; only for rate limits
	hintMessage      = "message"        // a wait phrase in the error message (or OpenRouter's metadata.raw)
)

// hinted reports whether the server asked for a wait: v has a hint, and it
// is not 0 (a hint of 0 leaves the wait to the backoff). The one test of a
// usable hint: the retry's wait (decide), the budget (counts), the key's
// pause (pacer.observe) and RetryablehttpBackoff ask it.
func (v Verdict) hinted() bool { return v.Hint != noHint && v.RetryAfter > 0 }

// parseRetryAfter parses a Retry-After value: delta-seconds (RFC 9110, with
// fractions tolerated) or an HTTP-date, which is measured from now. A date in
// the past means "now" (0).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if d, ok := parseSeconds(v); ok {
		return d, true
	}
	t, err := http.ParseTime(strings.TrimSpace(v))
	if err != nil {
		return 0, false
	}
	return untilTime(t, now)
}

// parseMillis parses a retry-after-ms value.
func parseMillis(v string) (time.Duration, bool) {
	f, ok := parseDecimal(v)
	if !ok {
		return 0, false
	}
	return secondsToDuration(f / 1000)
}

// messageHint finds a wait in an error message: "Please retry after 60 seconds.",
// "Please try again in 1.5s.", "come back in 12s", "try again in 6m0s",
// "retry in 250ms". Only phrases that start with retry/try again/come back/wait
// count, so a number elsewhere in the message is never taken for a wait.
var messageHint = regexp.MustCompile(`(?i)\b(?:retry|try again|come back|wait)\b[^0-9.\-]{0,20}?` +
	`((?:\d+(?:\.\d+)?(?:h|ms|m|s))+|\d+(?:\.\d+)?)\s*(milliseconds?|seconds?|secs?|minutes?|mins?)?\b`)

// parseMessageHint returns the wait named in msg, if any.
func parseMessageHint(msg string) (time.Duration, bool) {
	if msg == "" {
		return 0, false
	}
	if len(msg) > maxMessageScan {
		msg = msg[:maxMessageScan]
	}
	if strings.IndexAny(msg, "0123456789") < 0 {
		return 0, false // every wait phrase has a number: spare the regexp
	}
	m := messageHint.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	num, unit := m[1], strings.ToLower(m[2])
	if !isDecimal(num) {
		return parseGoDuration(num)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	switch {
	case strings.HasPrefix(unit, "ms") || strings.HasPrefix(unit, "milli"):
		f /= 1000
	case strings.HasPrefix(unit, "min"):
		f *= 60
	}
	return secondsToDuration(f)
}

// maxMessageScan bounds the part of a message searched for a wait phrase.
const maxMessageScan = 2048

// headerHint returns the wait hint from the response headers that apply to
// every retryable class: retry-after-ms, x-ms-retry-after-ms, then Retry-After
// (a zero wait is none).
func headerHint(h http.Header, now time.Time) (time.Duration, string) {
	for _, k := range [...]string{hdrRetryAfterMS, hdrMSRetryAfterMS} {
		if v := h[k]; len(v) > 0 && v[0] != "" {
			if d, ok := parseMillis(v[0]); ok && d > 0 {
				return d, hintRetryAfterMS
			}
		}
	}
	if v := h[hdrRetryAfter]; len(v) > 0 && v[0] != "" {
		if d, ok := parseRetryAfter(v[0], now); ok && d > 0 {
			return d, hintRetryAfter
		}
	}
	return 0, noHint
}

// waitHint returns the wait hint of an error answer and where it came from,
// taking the first valid one in the order Verdict.Hint documents (the one
// statement of it): the headers' retry-after-ms and Retry-After, the body's
// retry_after or reset, for a rate-limited answer the rate-limit headers'
// reset, then a wait phrase in the message or the upstream error it quotes.
// A zero wait (Retry-After: 0, a reset already past) is not a hint: it says
// nothing of when to retry. h is nil for a stream's error event; rate is nil
// without rate-limit headers.
func waitHint(h http.Header, body *errorBody, rate *rateHeaders, rateLimited bool, now time.Time) (time.Duration, string) {
	if d, src := headerHint(h, now); src != noHint {
		return d, src
	}
	if body.HasRetryAfter && body.RetryAfter > 0 {
		return body.RetryAfter, hintBody
	}
	if d, ok := parseReset(body.Reset, now); ok && d > 0 {
		return d, hintBody
	}
	if rateLimited && rate != nil {
		if d, ok := rate.resetHint(); ok && d > 0 {
			return d, hintReset
		}
	}
	for _, msg := range [2]string{body.Message, body.Raw} {
		if d, ok := parseMessageHint(msg); ok && d > 0 {
			return d, hintMessage
		}
	}
	return 0, noHint
}
