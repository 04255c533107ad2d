package llmretrytest

import (
	"math"
	"time"
)

// Style is one way real APIs announce their rate limits: which headers, in
// which format, on which answers, and which wait hints their 429s carry.
type Style struct {
	// Name is a short name, e.g. "retry-after".
	Name string
	// Source says who announces this way, quoting their documentation.
	Source string

	spec func(u Unit, perSecond float64, burst int) LimitSpec
}

// Spec returns the LimitSpec of a server in this style whose binding limit
// lets perSecond units of u through per second with bursts of burst. Styles
// built on fixed windows (Source says so) allow perSecond units per
// one-second window instead, aligned to whole seconds, so that a reset in
// whole Unix seconds is exact; their burst is the window's allowance. Other
// quotas a provider announces beside the binding one are generous enough
// never to bind.
func (st Style) Spec(u Unit, perSecond float64, burst int) LimitSpec {
	if perSecond <= 0 || st.spec == nil {
		return LimitSpec{}
	}
	return st.spec(u, perSecond, burst)
}

// secondWindow is a one-second window allowing perSecond units.
func secondWindow(u Unit, perSecond float64) Quota {
	return Window(u, max(int(math.Round(perSecond)), 1), time.Second)
}

// generous is a quota that a test run never exhausts.
func generous(u Unit) Quota { return Quota{Unit: u, Limit: 1_000_000, Per: time.Minute} }

var styles = []Style{
	{Name: "openai", Source: "OpenAI: token bucket; every answer carries x-ratelimit-limit/-remaining/-reset-requests " +
		"and -tokens, reset as a duration (\"1s\", \"6m0s\": \"the time until the rate limit … resets to its initial state\"); " +
		"429s carry retry-after-ms, Retry-After and \"Please try again in 1s\" (what llmretrytest.Limit does)",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Headers: OpenAIHeaders, Reset: ResetDuration,
				Hints: RetryAfter | RetryAfterMs, Dialect: OpenAI, BodyHint: true}
		}},
	{Name: "groq", Source: "Groq: OpenAI's headers on every answer, durations such as \"2m59.56s\" and \"7.66s\"; " +
		"retry-after (whole seconds) only on 429s",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Headers: OpenAIHeaders, Reset: ResetDuration,
				Hints: RetryAfter, Dialect: Groq}
		}},
	{Name: "retry-after", Source: "token bucket; no rate-limit headers; 429s carry only Retry-After in whole seconds, rounded up " +
		"(RFC 9110 delta-seconds, as most API gateways send it)",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Hints: RetryAfter, Dialect: OpenAI}
		}},
	{Name: "retry-after-ms", Source: "token bucket; no rate-limit headers; 429s carry only retry-after-ms " +
		"(read by the OpenAI and Anthropic SDKs before Retry-After)",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Hints: RetryAfterMs, Dialect: OpenAI}
		}},
	{Name: "bare", Source: "token bucket; a bare 429: no headers, no wait in the body",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Dialect: OpenAI}
		}},
	{Name: "github", Source: "GitHub: fixed windows; every answer carries x-ratelimit-limit/-remaining/-reset, " +
		"\"the time at which the current rate limit window resets in UTC epoch seconds\"; the 429 has no Retry-After: " +
		"\"you should not retry your request until after the time specified by the x-ratelimit-reset header\"",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, Headers: XRateLimitHeaders, Reset: ResetUnix, Dialect: OpenAI}
		}},
	{Name: "cencori", Source: "Cencori: fixed windows; \"When rate limited, check these response headers: X-RateLimit-Limit, " +
		"X-RateLimit-Remaining, X-RateLimit-Reset: Unix timestamp when limit resets, Retry-After: Seconds to wait\" — on 429s only",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, Headers: XRateLimitHeaders, Reset: ResetUnix,
				Only429: true, Hints: RetryAfter, Dialect: Cencori}
		}},
	{Name: "unix-ms", Source: "fixed windows; every answer carries X-RateLimit-Limit/-Remaining/-Reset, the reset in Unix milliseconds; no Retry-After",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, Headers: XRateLimitHeaders, Reset: ResetUnixMillis, Dialect: OpenAI}
		}},
	{Name: "rfc3339", Source: "fixed windows; every answer carries X-RateLimit-Limit/-Remaining/-Reset, the reset an RFC 3339 " +
		"timestamp (\"ratelimit-reset-date: The ISO UTC date when the rate limit resets\", agent.ai); no Retry-After",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{secondWindow(u, r)}, Headers: XRateLimitHeaders, Reset: ResetRFC3339, Dialect: OpenAI}
		}},
	{Name: "cerebras", Source: "Cerebras: every answer carries x-ratelimit-limit-requests-day, -tokens-minute and their " +
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
			return LimitSpec{Quotas: []Quota{binding, day, minute}, Headers: CerebrasHeaders, Reset: ResetSeconds, Dialect: Cerebras}
		}},
	{Name: "anthropic", Source: "Anthropic: token bucket; every answer carries anthropic-ratelimit-requests-, -tokens-, " +
		"-input-tokens- and -output-tokens-limit/-remaining/-reset, the reset \"in RFC 3339 format\" (whole seconds, " +
		"\"2025-08-21T12:40:59Z\"); 429s carry retry-after: \"The number of seconds to wait until you can retry the request\"",
		spec: func(u Unit, r float64, b int) LimitSpec {
			qs := []Quota{Bucket(u, r, b)}
			for _, other := range []Unit{Requests, Tokens, InputTokens, OutputTokens} {
				if other != u {
					qs = append(qs, generous(other))
				}
			}
			return LimitSpec{Quotas: qs, Headers: AnthropicHeaders, Reset: ResetRFC3339, Hints: RetryAfter, Dialect: Anthropic}
		}},
	{Name: "inexact", Source: "token bucket behind a gateway whose announcements only approximate it: 429s alone carry " +
		"Retry-After (whole seconds, rounded up), X-RateLimit-Limit (the rate per second), X-RateLimit-Remaining: 0, " +
		"X-RateLimit-Reset at the next whole Unix second and a body retry_after; 200s carry no rate-limit headers",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Announced: []Quota{secondWindow(u, r)}, Headers: XRateLimitHeaders,
				Reset: ResetUnix, Only429: true, Hints: RetryAfter, Dialect: GPTGob, BodyHint: true}
		}},
	{Name: "window-over-bucket", Source: "token bucket behind a gateway that announces a fixed window: every answer carries " +
		"X-RateLimit-Limit/-Remaining/-Reset of a one-second window at the bucket's rate (reset in Unix seconds), counted by " +
		"the gateway, while the bucket refuses; 429s carry Retry-After in whole seconds",
		spec: func(u Unit, r float64, b int) LimitSpec {
			return LimitSpec{Quotas: []Quota{Bucket(u, r, b)}, Announced: []Quota{secondWindow(u, r)}, Headers: XRateLimitHeaders,
				Reset: ResetUnix, Hints: RetryAfter, Dialect: OpenAI}
		}},
}

// Styles lists the ways of announcing a limit that real APIs use.
func Styles() []Style { return append([]Style(nil), styles...) }

// StyleNamed returns the style called name.
func StyleNamed(name string) (Style, bool) {
	for _, st := range styles {
		if st.Name == name {
			return st, true
		}
	}
	return Style{}, false
}
