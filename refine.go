package llmretry

import (
	"bytes"
	"strconv"
)

// refine corrects a verdict where the body proves the code or status wrong,
// in the ways that cost users: a rate-limit code on a request that can never
// fit the limit, a per-day or zero quota, an exhausted balance or spend
// limit, each retried as if it would pass in a minute; and a capacity error
// sent as an invalid request. The evidence is unambiguous wherever it is
// found (a proxy passes it on unchanged), so every policy applies it.
func refine(v *Verdict, b *errorBody) {
	switch v.Class {
	case ClassRateLimited, ClassQuotaExhausted, ClassInvalidRequest, ClassPermission, ClassOverloaded:
	default:
		return
	}
	if v.Status < 400 || v.Status > 503 {
		return
	}
	var buf [maxMessage]byte
	msg := lowerInto(buf[:0], v.Message)
	switch {
	case v.Class == ClassRateLimited && requestTooLarge(msg):
		// "Request too large for model … on tokens per minute (TPM): Limit 12000, Requested 28563"
		v.Class, v.Retryable = ClassInvalidRequest, false
	case (v.Class == ClassRateLimited || v.Class == ClassQuotaExhausted) && (b.ZeroLimit || zeroLimit(msg)):
		// Gemini's free tier: "Quota exceeded for metric: …, limit: 0" — no wait will help.
		v.Class, v.Retryable = ClassQuotaExhausted, false
	case v.Class == ClassRateLimited && b.DailyQuota:
		// Google's QuotaFailure names a …PerDay… quota; its RetryInfo comes
		// with it but only ends the minute, not the day.
		v.Class, v.Retryable = ClassQuotaExhausted, false
	case v.Class == ClassRateLimited && v.Hint == noHint && longWindow(msg):
		// "Too many tokens per day, please wait before trying again." (Bedrock),
		// "Requests per day limit exceeded" (Cerebras), "…limited to 1000 API
		// calls / month" (Cohere's trial keys): with no wait given, the next
		// window is hours or weeks away.
		v.Class, v.Retryable = ClassQuotaExhausted, false
	case v.Class != ClassQuotaExhausted && spent(msg):
		// "Your credit balance is too low…", "Insufficient Balance",
		// "…used all available credits or reached its monthly spending limit."
		v.Class, v.Retryable = ClassQuotaExhausted, false
	case (v.Class == ClassInvalidRequest || v.Class == ClassRateLimited) && containsAny(msg, capacityPhrases):
		// Mistral: 429 {"message":"Service tier capacity exceeded for this model.","type":"invalid_request_error"}
		v.Class, v.Retryable = ClassModelOverloaded, true
	case v.Class == ClassInvalidRequest && bytes.Contains(msg, incorrectKey):
		// xAI answers a wrong key with 400 "Incorrect API key provided: …".
		v.Class, v.Retryable = ClassAuth, false
	}
}

// lowerInto appends s to dst with ASCII letters in lower case.
func lowerInto(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func phrases(ss ...string) [][]byte {
	b := make([][]byte, len(ss))
	for i, s := range ss {
		b[i] = []byte(s)
	}
	return b
}

// spendPhrases name an exhausted balance, credit or spend limit; each
// contains one of spendAnchors, searched first.
var (
	spendAnchors = phrases("credit", "balance", "spend", "usage limits")
	spendPhrases = phrases("credit balance is too low", "insufficient balance", "insufficient credits",
		"used all available credits", "spending limit", "spend limit", "api usage limits", "out of credits")
	capacityPhrases = phrases("capacity exceeded", "currently overloaded")
	gluedWindows    = phrases("perday", "perweek", "permonth", "peryear") // quota ids: "GenerateRequestsPerDayPerProjectPerModel"
	incorrectKey    = []byte("incorrect api key")
	tooLarge        = []byte("request too large")
	limitWord       = []byte("limit ")
	requestedWord   = []byte("requested ")
	limitZero       = []byte("limit: 0")
)

// spent reports whether a message names an exhausted balance or spend limit.
func spent(msg []byte) bool {
	return containsAny(msg, spendAnchors) && containsAny(msg, spendPhrases)
}

func containsAny(s []byte, subs [][]byte) bool {
	for _, sub := range subs {
		if bytes.Contains(s, sub) {
			return true
		}
	}
	return false
}

// longWindow reports whether a rate-limit message names a window of a day or
// longer, however it writes it: "tokens per day", "(RPD)", "daily",
// "per-month", "1,000 API calls / month", "monthly", "1 month", "30 days",
// "a week", "24 hours", "requests_per_day", Google's "…PerDay…" quota ids.
// msg is lower case. Units are matched as whole words, so "today" and
// "Monday" are not windows; an hour is not long (the next one may be a
// minute away), unless it is "24 hours". A name the message quotes (a
// model, a fine-tune, an organization) is not a window, though it may hold
// a unit: see identifier.
func longWindow(msg []byte) bool {
	if gluedWindow(msg) {
		return true
	}
	for rest := msg; ; {
		var tok []byte
		if tok, rest = nextToken(rest); tok == nil {
			return false
		}
		if identifier(tok) {
			continue
		}
		var prev []byte
		for words := tok; ; {
			var w []byte
			if w, words = nextWord(words); w == nil {
				break
			}
			if longUnit(w) || (string(prev) == "24" && hourUnit(w)) {
				return true
			}
			prev = w
		}
		if string(bytes.TrimRight(tok, ",.;:!?)]}>\"'`")) == "24" {
			if w, _ := nextWord(rest); hourUnit(w) {
				return true // "24 hours", across the space
			}
		}
	}
}

// gluedWindow reports whether msg holds a window glued into a quota id,
// "…PerDayPerProject…" or "…PerModelPerDay-FreeTier": the unit ends a word or
// another "Per…" follows it, so "superdays-7b" is not one.
func gluedWindow(msg []byte) bool {
	for _, g := range gluedWindows {
		for rest := msg; ; {
			i := bytes.Index(rest, g)
			if i < 0 {
				break
			}
			rest = rest[i+len(g):]
			if len(rest) == 0 || !('a' <= rest[0] && rest[0] <= 'z') || bytes.HasPrefix(rest, []byte("per")) {
				return true
			}
		}
	}
	return false
}

// nextToken splits the first run of non-space bytes off s.
func nextToken(s []byte) (tok, rest []byte) {
	s = bytes.TrimLeft(s, " \t\r\n")
	if len(s) == 0 {
		return nil, nil
	}
	if i := bytes.IndexAny(s, " \t\r\n"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, nil
}

// identifier reports whether a token is a name rather than words: a URL, or
// three or more words joined without spaces, one of which mixes letters and
// digits, as model and fine-tune names do ("hermes-daily-7b",
// "ft:gpt-4o-mini:acme:weekly-digest:abc123"). "requests_per_day",
// "1000/day" and "30-day" are words.
func identifier(tok []byte) bool {
	if bytes.Contains(tok, []byte("://")) {
		return true // a link to the docs ("…/rate-limits#daily-limits") is not the limit hit
	}
	n, mixed := 0, false
	for rest := tok; ; n++ {
		var w []byte
		if w, rest = nextWord(rest); w == nil {
			break
		}
		mixed = mixed || (bytes.ContainsAny(w, "0123456789") && bytes.IndexFunc(w, func(r rune) bool { return 'a' <= r && r <= 'z' }) >= 0)
	}
	return n >= 3 && mixed
}

// nextWord returns the first run of ASCII letters and digits in s, and what
// follows it; nil when there is none.
func nextWord(s []byte) (word, rest []byte) {
	i := 0
	for i < len(s) && !wordByte(s[i]) {
		i++
	}
	j := i
	for j < len(s) && wordByte(s[j]) {
		j++
	}
	if i == j {
		return nil, nil
	}
	return s[i:j], s[j:]
}

func wordByte(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// longUnit reports whether a lower-case word names a day or a longer window.
func longUnit(w []byte) bool {
	switch string(w) {
	case "day", "days", "daily", "rpd", "tpd", "24h", "24hr", "24hrs",
		"week", "weeks", "weekly",
		"month", "months", "monthly",
		"year", "years", "yearly", "annual", "annually":
		return true
	}
	return false
}

func hourUnit(w []byte) bool {
	switch string(w) {
	case "hour", "hours", "hr", "hrs", "h":
		return true
	}
	return false
}

// requestTooLarge reports whether a rate-limit message says that the request
// alone exceeds the limit: "Request too large for …", or "Limit N, …
// Requested M" with M > N (OpenAI, Groq, Azure write both).
func requestTooLarge(msg []byte) bool {
	if bytes.Contains(msg, tooLarge) {
		return true
	}
	req, ok := numberAfter(msg, requestedWord)
	if !ok {
		return false
	}
	limit, ok := numberAfter(msg, limitWord)
	return ok && req > limit
}

// numberAfter parses the integer that follows an occurrence of key in s
// ("limit 30000"), ignoring thousands separators; occurrences followed by no
// number ("rate limit reached") are skipped.
func numberAfter(s, key []byte) (int64, bool) {
	for {
		i := bytes.Index(s, key)
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
func zeroLimit(msg []byte) bool {
	for {
		i := bytes.Index(msg, limitZero)
		if i < 0 {
			return false
		}
		msg = msg[i+len(limitZero):]
		if len(msg) == 0 {
			return true
		}
		if c := msg[0]; c != '.' && (c < '0' || c > '9') {
			return true
		}
	}
}
