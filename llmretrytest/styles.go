package llmretrytest

import (
	"math"
	"strconv"
	"time"
)

// Style names one way real APIs announce their rate limits: which headers,
// in which format, on which answers, and which wait hints their 429s carry:
// llmretrytest.Style("anthropic"). [Styles] lists the known names; Source
// says who announces that way.
type Style string

// style is the definition of a named Style.
type style struct {
	name   string
	source string
	spec   func(u Unit, perSecond float64, burst int) LimitSpec
}

func (st Style) def() *style {
	for i := range styles {
		if styles[i].name == string(st) {
			return &styles[i]
		}
	}
	return nil
}

// Spec returns the LimitSpec of a server in this style whose binding quota
// lets perSecond units of u through per second with bursts of burst.
// Styles built on fixed windows (Source says so) allow perSecond units per
// one-second window instead, aligned to whole seconds, so that a reset in
// whole Unix seconds is exact; their burst is the window's allowance. Other
// quotas a provider announces beside the binding one are generous enough
// never to bind. perSecond ≤ 0 returns a LimitSpec without quotas, which
// removes the limit. Spec panics on a style Styles does not list.
func (st Style) Spec(u Unit, perSecond float64, burst int) LimitSpec {
	d := st.mustDef()
	if perSecond <= 0 {
		return LimitSpec{}
	}
	return d.spec(u, perSecond, burst)
}

// Source says who announces their limits in this style, quoting their
// documentation. It panics on a style Styles does not list.
func (st Style) Source() string { return st.mustDef().source }

func (st Style) mustDef() *style {
	d := st.def()
	if d == nil {
		panic("llmretrytest: unknown Style " + strconv.Quote(string(st)) + " (Styles lists the known ones)")
	}
	return d
}

// secondWindow is a one-second window allowing perSecond units.
func secondWindow(u Unit, perSecond float64) Quota {
	return Window(u, max(int(math.Round(perSecond)), 1), time.Second)
}

// generous is a quota that a test run never exhausts.
func generous(u Unit) Quota { return Quota{Unit: u, Limit: 1_000_000, Per: time.Minute} }

var styles = []style{
	{name: "openai", source: "OpenAI: token bucket; every answer carries x-ratelimit-limit/-remaining/-reset-requests " +
		"and -tokens, reset as a duration (\"1s\", \"6m0s\": \"the time until the rate limit … resets to its initial state\"); " +
		"429s carry retry-after-ms, Retry-After and \"Please try again in 1s\"",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, headers: openAIHeaders, reset: resetDuration,
				hints: hintRetryAfter | hintRetryAfterMs, Dialect: "openai", bodyHint: true}
		}},
	{name: "groq", source: "Groq: OpenAI's headers on every answer, durations such as \"2m59.56s\" and \"7.66s\"; " +
		"retry-after (whole seconds) only on 429s",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, headers: openAIHeaders, reset: resetDuration,
				hints: hintRetryAfter, Dialect: "groq"}
		}},
	{name: "retry-after", source: "token bucket; no rate-limit headers; 429s carry only Retry-After in whole seconds, rounded up " +
		"(RFC 9110 delta-seconds, as most API gateways send it)",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, hints: hintRetryAfter, Dialect: "openai"}
		}},
	{name: "retry-after-ms", source: "token bucket; no rate-limit headers; 429s carry only retry-after-ms " +
		"(read by the OpenAI and Anthropic SDKs before Retry-After)",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, hints: hintRetryAfterMs, Dialect: "openai"}
		}},
	{name: "bare", source: "token bucket; a bare 429: no headers, no wait in the body",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Dialect: "openai"}
		}},
	{name: "github", source: "GitHub: fixed windows; every answer carries x-ratelimit-limit/-remaining/-reset, " +
		"\"the time at which the current rate limit window resets in UTC epoch seconds\"; the 429 has no Retry-After: " +
		"\"you should not retry your request until after the time specified by the x-ratelimit-reset header\"",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, headers: xRateLimitHeaders, reset: resetUnix, Dialect: "openai"}
		}},
	{name: "cencori", source: "Cencori: fixed windows; \"When rate limited, check these response headers: X-RateLimit-Limit, " +
		"X-RateLimit-Remaining, X-RateLimit-Reset: Unix timestamp when limit resets, Retry-After: Seconds to wait\" — on 429s only",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, headers: xRateLimitHeaders, reset: resetUnix,
				only429: true, hints: hintRetryAfter, Dialect: "cencori"}
		}},
	{name: "unix-ms", source: "fixed windows; every answer carries X-RateLimit-Limit/-Remaining/-Reset, the reset in Unix milliseconds; no Retry-After",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, headers: xRateLimitHeaders, reset: resetUnixMillis, Dialect: "openai"}
		}},
	{name: "rfc3339", source: "fixed windows; every answer carries X-RateLimit-Limit/-Remaining/-Reset, the reset an RFC 3339 " +
		"timestamp (\"ratelimit-reset-date: The ISO UTC date when the rate limit resets\", agent.ai); no Retry-After",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, headers: xRateLimitHeaders, reset: resetRFC3339, Dialect: "openai"}
		}},
	{name: "cerebras", source: "Cerebras: every answer carries x-ratelimit-limit-requests-day, -tokens-minute and their " +
		"-remaining-/-reset- (\"Time (in seconds) until your daily request limit resets\", e.g. 33011.382867097855); " +
		"the per-minute request limit (RPM) and the token bucket (\"We use the token bucketing algorithm\") that bind are not " +
		"announced; the 429 carries no wait. The day allows 14,400 requests (the free tier's RPD)",
		spec: func(u Unit, r float64, b int) LimitSpec {
			day := Window(Requests, 14_400, 24*time.Hour)
			minute := Window(Tokens, 1_000_000_000, time.Minute) // the documentation's example value
			if u == Tokens {
				minute.Limit = max(int(r*60), 1)
			}
			binding := Bucket(u, r, b)
			binding.Silent = true
			return LimitSpec{Quotas: []Quota{binding, day, minute}, headers: cerebrasHeaders, reset: resetSeconds, Dialect: "cerebras"}
		}},
	{name: "anthropic", source: "Anthropic: token bucket; every answer carries anthropic-ratelimit-requests-, -tokens-, " +
		"-input-tokens- and -output-tokens-limit/-remaining/-reset, the reset \"in RFC 3339 format\" (whole seconds, " +
		"\"2025-08-21T12:40:59Z\"); 429s carry retry-after: \"The number of seconds to wait until you can retry the request\"",
		spec: func(u Unit, r float64, b int) LimitSpec {
			qs := []Quota{Bucket(u, r, b)}
			for _, other := range []Unit{Requests, Tokens, InputTokens, OutputTokens} {
				if other != u {
					qs = append(qs, generous(other))
				}
			}
			return LimitSpec{Quotas: qs, headers: anthropicHeaders, reset: resetRFC3339, hints: hintRetryAfter, Dialect: "anthropic"}
		}},
	{name: "inexact", source: "token bucket behind a gateway whose announcements only approximate it: 429s alone carry " +
		"Retry-After (whole seconds, rounded up), X-RateLimit-Limit (the rate per second), X-RateLimit-Remaining: 0, " +
		"X-RateLimit-Reset at the next whole Unix second and a body retry_after; 200s carry no rate-limit headers",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Announced: []Quota{secondWindow(u, r)}, headers: xRateLimitHeaders,
				reset: resetUnix, only429: true, hints: hintRetryAfter, Dialect: "gptgob", bodyHint: true}
		}},
	{name: "window-over-bucket", source: "token bucket behind a gateway that announces a fixed window: every answer carries " +
		"X-RateLimit-Limit/-Remaining/-Reset of a one-second window at the bucket's rate (reset in Unix seconds), counted by " +
		"the gateway, while the bucket refuses; 429s carry Retry-After in whole seconds",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Announced: []Quota{secondWindow(u, r)}, headers: xRateLimitHeaders,
				reset: resetUnix, hints: hintRetryAfter, Dialect: "openai"}
		}},
}

// Styles lists the known styles, in this order: "openai", "groq",
// "retry-after", "retry-after-ms", "bare", "github", "cencori", "unix-ms",
// "rfc3339", "cerebras", "anthropic", "inexact", "window-over-bucket".
func Styles() []Style {
	sts := make([]Style, len(styles))
	for i, st := range styles {
		sts[i] = Style(st.name)
	}
	return sts
}
