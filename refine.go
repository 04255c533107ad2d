package llmretry

import (
	"strconv"
	"strings"
)

// refine corrects a verdict where the body proves the code or status wrong,
// in the ways that cost users: a rate-limit code on a request that can never
// fit the limit, a per-day or zero quota, an exhausted balance or spend
// limit, each retried as if it would pass in a minute; and a capacity error
// sent as an invalid request. The evidence is unambiguous wherever it is
// found (a proxy passes it on unchanged), so every policy applies it.
func refine(v *Verdict, b *errorBody) {
	switch v.Class {
	case RateLimited, QuotaExhausted, InvalidRequest, Permission, Overloaded:
	default:
		return
	}
	if v.Status < 400 || v.Status > 503 {
		return
	}
	msg := strings.ToLower(v.Message)
	switch {
	case v.Class == RateLimited && requestTooLarge(msg):
		// "Request too large for model … on tokens per minute (TPM): Limit 12000, Requested 28563"
		v.Class, v.Retryable = InvalidRequest, false
	case (v.Class == RateLimited || v.Class == QuotaExhausted) && (b.ZeroLimit || zeroLimit(msg)):
		// Gemini's free tier: "Quota exceeded for metric: …, limit: 0" — no wait will help.
		v.Class, v.Retryable = QuotaExhausted, false
	case v.Class == RateLimited && b.DailyQuota:
		// Google's QuotaFailure names a …PerDay… quota; its RetryInfo comes
		// with it but only ends the minute, not the day.
		v.Class, v.Retryable = QuotaExhausted, false
	case v.Class == RateLimited && v.Hint == NoHint && longWindow(msg):
		// "Too many tokens per day, please wait before trying again." (Bedrock),
		// "Requests per day limit exceeded" (Cerebras): with no wait given,
		// the next window is hours away.
		v.Class, v.Retryable = QuotaExhausted, false
	case v.Class != QuotaExhausted && containsAny(msg, spendPhrases):
		// "Your credit balance is too low…", "Insufficient Balance",
		// "…used all available credits or reached its monthly spending limit."
		v.Class, v.Retryable = QuotaExhausted, false
	case (v.Class == InvalidRequest || v.Class == RateLimited) && containsAny(msg, capacityPhrases):
		// Mistral: 429 {"message":"Service tier capacity exceeded for this model.","type":"invalid_request_error"}
		v.Class, v.Retryable = ModelOverloaded, true
	case v.Class == InvalidRequest && strings.Contains(msg, "incorrect api key"):
		// xAI answers a wrong key with 400 "Incorrect API key provided: …".
		v.Class, v.Retryable = Auth, false
	}
}

// spendPhrases name an exhausted balance, credit or spend limit.
var spendPhrases = []string{"credit balance is too low", "insufficient balance", "insufficient credits",
	"used all available credits", "spending limit", "spend limit", "api usage limits", "out of credits"}

// capacityPhrases name a model at capacity.
var capacityPhrases = []string{"capacity exceeded", "currently overloaded"}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// longWindow reports whether a rate-limit message names a daily or monthly
// limit: "tokens per day", "(RPD)", "daily", "per month".
func longWindow(msg string) bool {
	return containsAny(msg, longWindowPhrases)
}

var longWindowPhrases = []string{"per day", "per-day", "(rpd)", "(tpd)", "daily", "per month", "monthly"}

// requestTooLarge reports whether a rate-limit message says that the request
// alone exceeds the limit: "Request too large for …", or "Limit N, …
// Requested M" with M > N (OpenAI, Groq, Azure write both).
func requestTooLarge(msg string) bool {
	if strings.Contains(msg, "request too large") {
		return true
	}
	limit, ok1 := numberAfter(msg, "limit ")
	req, ok2 := numberAfter(msg, "requested ")
	return ok1 && ok2 && req > limit
}

// numberAfter parses the integer that follows an occurrence of key in s
// ("limit 30000"), ignoring thousands separators; occurrences followed by no
// number ("rate limit reached") are skipped.
func numberAfter(s, key string) (int64, bool) {
	for {
		i := strings.Index(s, key)
		if i < 0 {
			return 0, false
		}
		s = s[i+len(key):]
		var digits [20]byte
		n := 0
		for j := 0; j < len(s) && n < len(digits); j++ {
			c := s[j]
			if c >= '0' && c <= '9' {
				digits[n] = c
				n++
				continue
			}
			if c == ',' && n > 0 && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
				continue
			}
			break
		}
		if n > 0 {
			v, err := strconv.ParseInt(string(digits[:n]), 10, 64)
			return v, err == nil
		}
	}
}

// zeroLimit reports whether a message names a quota of 0: "…, limit: 0, model: …".
func zeroLimit(msg string) bool {
	for {
		i := strings.Index(msg, "limit: 0")
		if i < 0 {
			return false
		}
		msg = msg[i+len("limit: 0"):]
		if msg == "" {
			return true
		}
		if c := msg[0]; c != '.' && (c < '0' || c > '9') {
			return true
		}
	}
}
