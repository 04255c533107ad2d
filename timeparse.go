package llmretry

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// maxPlausibleHint is the longest wait hint taken at face value. A longer one
// (a year, a date in 9999, an epoch written where seconds were meant) is
// garbage rather than advice, and is ignored like any unparsable value. Hints
// between the policy's MaxWait and this make the Transport give up instead.
const maxPlausibleHint = 366 * 24 * time.Hour

// plausible accepts a hint if it is a real, non-negative wait that is not absurd.
func plausible(d time.Duration) (time.Duration, bool) {
	if d < 0 || d > maxPlausibleHint {
		return 0, false
	}
	return d, true
}

// secondsToDuration converts a count of seconds (fractions allowed) to a
// duration, rejecting NaN, infinities, negatives and absurd values.
func secondsToDuration(s float64) (time.Duration, bool) {
	if math.IsNaN(s) || s < 0 || s > maxPlausibleHint.Seconds() {
		return 0, false
	}
	return plausible(time.Duration(s * float64(time.Second)))
}

// parseSeconds parses a decimal count of seconds such as "12" or "1.5".
// Signs, exponents, hex and the words strconv accepts ("inf", "nan") are refused.
func parseSeconds(v string) (time.Duration, bool) {
	f, ok := parseDecimal(v)
	if !ok {
		return 0, false
	}
	return secondsToDuration(f)
}

// parseDecimal parses digits with at most one dot, after trimming spaces.
func parseDecimal(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if !isDecimal(v) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// isDecimal reports whether v is digits with at most one dot.
func isDecimal(v string) bool {
	dot := false
	digits := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// untilTime is the wait from now until t: 0 if t has passed.
func untilTime(t time.Time, now time.Time) (time.Duration, bool) {
	if t.Year() < 1970 || t.Year() > 9999 {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		return 0, true
	}
	return plausible(d)
}

// Epoch thresholds for reset values: a number above epochSeconds is a Unix time
// in seconds, above epochMillis one in milliseconds; smaller numbers are
// delta-seconds (many servers write "60" where they mean "in 60 s").
const (
	epochSeconds = 1e9  // 2001-09-09
	epochMillis  = 1e12 // 2001-09-09 in milliseconds
)

// parseReset parses a rate-limit reset value in any of the forms servers use:
// Unix seconds or milliseconds ("1767225600"), delta-seconds ("20", "0.5"),
// a Go duration ("1s", "6m0s", "2m59.56s", "17ms") or an RFC 3339 timestamp.
func parseReset(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDecimal(v) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		switch {
		case f >= epochMillis:
			return untilTime(time.UnixMilli(int64(f)), now)
		case f >= epochSeconds:
			sec, frac := math.Modf(f)
			return untilTime(time.Unix(int64(sec), int64(frac*1e9)), now)
		}
		return secondsToDuration(f)
	}
	if d, ok := parseGoDuration(v); ok {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return untilTime(t, now)
	}
	return 0, false
}

// parseGoDuration parses unsigned Go durations such as "6m0s" or "17ms".
func parseGoDuration(v string) (time.Duration, bool) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false // no signs: a negative wait is not a wait
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, false
	}
	return plausible(d)
}
