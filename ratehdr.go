package llmretry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit headers are read once per response, in one pass over its
// header names, into a rateHeaders value that both the wait hint (for a
// 429) and the pacer's learning use. Families read:
//
//	X-RateLimit-{Limit,Remaining,Reset}                     (GitHub, Cencori: requests)
//	X-RateLimit-{Limit,Remaining,Reset}-{Requests,Tokens}   (OpenAI, Groq, Azure OpenAI)
//	X-RateLimit-{…}-{Requests,Tokens}-{Second,Minute,Hour,Day} (Cerebras)
//	Anthropic-RateLimit-{Requests,Tokens,Input-Tokens,Output-Tokens}-{Limit,Remaining,Reset}
//	RateLimit-{Limit,Remaining,Reset}                       (IETF draft ≤ 06, GitLab)
//	RateLimit: "name";r=R;t=T and RateLimit-Policy: "name";q=Q;w=W (IETF draft ≥ 07)
//
// A reset is read as parseReset reads it (a duration, delta-seconds, Unix
// seconds or milliseconds, RFC 3339); it is absolute when it names a time.

// rateUnit is what a rate-limit dimension counts.
type rateUnit uint8

const (
	unitRequests     rateUnit = iota
	unitTokens                // prompt and completion together: what Cost estimates
	unitInputTokens           // Anthropic's input tokens: not paced, only paused on
	unitOutputTokens          // Anthropic's output tokens: not paced, only paused on
)

// maxDims bounds the dimensions read from one response; a response that
// announces more has the rest ignored.
const maxDims = 8

// maxRateCount bounds limit and remaining counts: a larger one is absurd.
const maxRateCount = 1 << 40

// rateDim is one announced limit: limit units per period, remaining left
// until reset.
type rateDim struct {
	id        uint16 // family, unit and period: which headers it came from
	unit      rateUnit
	hasLimit  bool
	hasRemain bool
	hasReset  bool
	absolute  bool          // the reset names a time rather than a delay
	bucket    bool          // the reset is when a token bucket is full again, not a window's end
	coarse    bool          // the reset is a time in whole seconds: up to a second late
	gran      time.Duration // the reset's resolution: it may be rounded up by this much
	limit     int64
	remaining int64
	reset     time.Duration // from the response's arrival
	period    time.Duration // the window's length, when the header names it; else 0
}

// rateHeaders is what a response's rate-limit headers say.
type rateHeaders struct {
	dims [maxDims]rateDim
	n    int
}

// Header-name prefixes, canonical; matching is case-insensitive.
const (
	pfxXRateLimit         = "X-Ratelimit-"
	pfxAnthropicRateLimit = "Anthropic-Ratelimit-"
	pfxIETFRateLimit      = "Ratelimit"
)

// Family numbers in rateDim.id.
const (
	famX = iota + 1
	famAnthropic
	famIETF
	famIETFStructured
)

// readRateHeaders reads h's rate-limit headers at now. It allocates nothing
// and, for a response without rate-limit headers, costs one pass over the
// header names.
func readRateHeaders(h http.Header, now time.Time) rateHeaders {
	var r rateHeaders
	for k, vs := range h {
		if len(vs) == 0 || len(k) < len(pfxIETFRateLimit) {
			continue
		}
		switch {
		case hasPrefixFold(k, pfxXRateLimit):
			r.readX(k[len(pfxXRateLimit):], vs[0], now)
		case hasPrefixFold(k, pfxAnthropicRateLimit):
			r.readAnthropic(k[len(pfxAnthropicRateLimit):], vs[0], now)
		case hasPrefixFold(k, pfxIETFRateLimit):
			r.readIETF(k[len(pfxIETFRateLimit):], vs[0], now)
		}
	}
	return r
}

// any reports whether any rate-limit header was read.
func (r *rateHeaders) any() bool { return r.n > 0 }

// dim returns the dimension with id, adding it if there is room.
func (r *rateHeaders) dim(id uint16, unit rateUnit) *rateDim {
	for i := 0; i < r.n; i++ {
		if r.dims[i].id == id {
			return &r.dims[i]
		}
	}
	if r.n == len(r.dims) {
		return nil
	}
	d := &r.dims[r.n]
	r.n++
	d.id, d.unit = id, unit
	return d
}

// field is which of a dimension's values a header carries.
type field uint8

const (
	fieldLimit field = iota
	fieldRemaining
	fieldReset
)

// set parses v as field f of d.
func (d *rateDim) set(f field, v string, now time.Time) {
	if d == nil {
		return
	}
	switch f {
	case fieldLimit:
		d.limit, d.hasLimit = parseCount(v)
		d.limit = min(d.limit, maxRateCount)
	case fieldRemaining:
		d.remaining, d.hasRemain = parseCount(v)
		d.remaining = min(d.remaining, maxRateCount)
	case fieldReset:
		d.reset, d.hasReset = parseReset(v, now)
		d.absolute = d.hasReset && isAbsoluteReset(v)
		d.coarse = d.absolute && isWholeSeconds(v)
		d.gran = resetResolution(v, d.absolute)
	}
}

// readX reads X-RateLimit-<rest>: Limit|Remaining|Reset, then optionally
// -Requests|-Tokens, then optionally -Second|-Minute|-Hour|-Day.
func (r *rateHeaders) readX(rest, v string, now time.Time) {
	f, rest, ok := cutField(rest)
	if !ok {
		return
	}
	unit, id := unitRequests, uint16(famX<<8)
	if rest != "" {
		if rest[0] != '-' {
			return
		}
		rest = rest[1:]
		switch u, after := cutWord(rest); {
		case strings.EqualFold(u, "Requests"):
			unit, rest = unitRequests, after
		case strings.EqualFold(u, "Tokens"):
			unit, rest = unitTokens, after
		default:
			return
		}
		id |= 1<<4 | uint16(unit)
	}
	var period time.Duration
	if rest != "" {
		p, ok := periodNamed(rest)
		if !ok {
			return
		}
		period = p
		id |= uint16(periodCode(p)) << 6
	}
	d := r.dim(id, unit)
	if d == nil {
		return
	}
	d.period = period
	d.set(f, v, now)
	// OpenAI's reading: "the time until the rate limit resets to its
	// initial state", a token bucket. A time, or a period in the name, is a
	// window's end.
	d.bucket = id&(1<<4) != 0 && period == 0 && !d.absolute
}

// readAnthropic reads Anthropic-RateLimit-<unit>-<field>.
func (r *rateHeaders) readAnthropic(rest, v string, now time.Time) {
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return
	}
	f, tail, ok := cutField(rest[i+1:])
	if !ok || tail != "" {
		return
	}
	var unit rateUnit
	switch u := rest[:i]; {
	case strings.EqualFold(u, "Requests"):
		unit = unitRequests
	case strings.EqualFold(u, "Tokens"):
		unit = unitTokens
	case strings.EqualFold(u, "Input-Tokens"):
		unit = unitInputTokens
	case strings.EqualFold(u, "Output-Tokens"):
		unit = unitOutputTokens
	default:
		return
	}
	d := r.dim(famAnthropic<<8|uint16(unit), unit)
	if d == nil {
		return
	}
	d.set(f, v, now)
	d.bucket = true // "the time when the rate limit will be fully replenished"
}

// readIETF reads RateLimit-Limit|-Remaining|-Reset (the early drafts) and
// the structured RateLimit and RateLimit-Policy fields (the later ones).
func (r *rateHeaders) readIETF(rest, v string, now time.Time) {
	switch {
	case rest == "":
		r.readIETFStructured(v, now, false)
		return
	case strings.EqualFold(rest, "-Policy"):
		r.readIETFStructured(v, now, true)
		return
	case rest[0] != '-':
		return
	}
	f, tail, ok := cutField(rest[1:])
	if !ok || tail != "" {
		return
	}
	r.dim(famIETF<<8, unitRequests).set(f, v, now)
}

// maxStructured bounds the part of a structured RateLimit field scanned.
const maxStructured = 256

// readIETFStructured reads the first item of a RateLimit field
// (`"default";r=50;t=30`, or the older `limit=100, remaining=50, reset=5`)
// or of a RateLimit-Policy field (`"default";q=100;w=60`).
func (r *rateHeaders) readIETFStructured(v string, now time.Time, policy bool) {
	if len(v) > maxStructured {
		v = v[:maxStructured]
	}
	d := r.dim(famIETFStructured<<8, unitRequests)
	if d == nil {
		return
	}
	seen := false
	for v != "" {
		var part string
		part, v = cutAny(v, ";,")
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			if seen {
				break // the next item's name: only the first item is read
			}
			continue // this item's name
		}
		seen = true
		switch name = strings.ToLower(strings.TrimSpace(name)); {
		case policy && name == "q", !policy && name == "limit":
			if !d.hasLimit {
				d.set(fieldLimit, val, now)
			}
		case policy && name == "w":
			if w, ok := parseSeconds(val); ok && w > 0 && d.period == 0 {
				d.period = w
			}
		case !policy && (name == "r" || name == "remaining"):
			if !d.hasRemain {
				d.set(fieldRemaining, val, now)
			}
		case !policy && (name == "t" || name == "reset"):
			if !d.hasReset {
				d.set(fieldReset, val, now)
			}
		}
	}
}

// cutField splits "Remaining-Tokens" into fieldRemaining and "-Tokens".
func cutField(s string) (field, string, bool) {
	w, rest := cutWord(s)
	switch {
	case strings.EqualFold(w, "Limit"):
		return fieldLimit, rest, true
	case strings.EqualFold(w, "Remaining"):
		return fieldRemaining, rest, true
	case strings.EqualFold(w, "Reset"):
		return fieldReset, rest, true
	}
	return 0, "", false
}

// cutWord splits s at its first '-': "Tokens-Minute" → "Tokens", "-Minute".
func cutWord(s string) (string, string) {
	if i := strings.IndexByte(s, '-'); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// cutAny splits s at the first byte in seps.
func cutAny(s, seps string) (string, string) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// periodNamed reads "-Minute" and the like.
func periodNamed(s string) (time.Duration, bool) {
	switch {
	case strings.EqualFold(s, "-Second"):
		return time.Second, true
	case strings.EqualFold(s, "-Minute"):
		return time.Minute, true
	case strings.EqualFold(s, "-Hour"):
		return time.Hour, true
	case strings.EqualFold(s, "-Day"):
		return 24 * time.Hour, true
	}
	return 0, false
}

func periodCode(p time.Duration) uint8 {
	switch p {
	case time.Second:
		return 1
	case time.Minute:
		return 2
	case time.Hour:
		return 3
	}
	return 0
}

// hasPrefixFold is strings.HasPrefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isAbsoluteReset reports whether a reset value names a time (a Unix time
// or a timestamp) rather than a delay (a duration or delta-seconds).
func isAbsoluteReset(v string) bool {
	v = strings.TrimSpace(v)
	if isDecimal(v) {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= epochSeconds
	}
	return len(v) > 0 && v[0] >= '0' && v[0] <= '9' && strings.ContainsAny(v, "T:")
}

// resetResolution is the unit of a reset value's last digit: "17ms" 1 ms,
// "7.66s" 10 ms, "6m0s" and "20" 1 s, a Unix time in seconds 1 s, in
// milliseconds 1 ms, an RFC 3339 time by its fraction's digits.
func resetResolution(v string, absolute bool) time.Duration {
	v = strings.TrimSpace(v)
	unit := time.Second
	switch {
	case absolute && isDecimal(v):
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= epochMillis {
			unit = time.Millisecond
		}
	case absolute:
		if i := strings.IndexByte(v, '.'); i >= 0 {
			digits := 0
			for _, c := range v[i+1:] {
				if c < '0' || c > '9' {
					break
				}
				digits++
			}
			return max(time.Second/time.Duration(pow10(min(digits, 9))), time.Nanosecond)
		}
		return time.Second
	case strings.HasSuffix(v, "ms"):
		unit, v = time.Millisecond, v[:len(v)-2]
	case strings.HasSuffix(v, "us"), strings.HasSuffix(v, "µs"):
		return time.Microsecond
	case strings.HasSuffix(v, "ns"):
		return time.Nanosecond
	case strings.HasSuffix(v, "s"):
		v = v[:len(v)-1]
	case strings.HasSuffix(v, "m"):
		unit, v = time.Minute, v[:len(v)-1]
	case strings.HasSuffix(v, "h"):
		unit, v = time.Hour, v[:len(v)-1]
	}
	// Decimals of the last number.
	i := len(v)
	for i > 0 && (v[i-1] >= '0' && v[i-1] <= '9') {
		i--
	}
	if i > 0 && v[i-1] == '.' {
		return max(unit/time.Duration(pow10(min(len(v)-i, 9))), time.Nanosecond)
	}
	return unit
}

func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// isWholeSeconds reports whether an absolute reset is written in whole
// seconds: a Unix time in seconds, or a timestamp without a fraction.
func isWholeSeconds(v string) bool {
	v = strings.TrimSpace(v)
	if isDecimal(v) {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f < epochMillis && f == float64(int64(f))
	}
	return !strings.Contains(v, ".")
}

// exhausted returns the latest reset of the dimensions that have nothing
// left, if any: no request may go before it.
func (r *rateHeaders) exhausted() (time.Duration, bool) {
	var until time.Duration
	found := false
	for i := 0; i < r.n; i++ {
		d := &r.dims[i]
		if d.hasRemain && d.remaining == 0 && d.hasReset && (!found || d.reset > until) {
			until, found = d.reset, true
		}
	}
	return until, found
}

// exhaustedWait is how long nothing may go by the dimensions with nothing
// left, the longest of them: a window's until its reset, a bucket's until
// one unit is back (its reset is when it is full again). When a pace holds
// the key (paced), a bucket's reset rounded up to its resolution (whole
// seconds, for Anthropic) counts for what it surely means, a resolution
// less: the pace releases the waiters after it one by one. A window's
// reset is where its allowance comes back, and is kept whole.
//
// win says, per unit (requests, tokens), whether the key heeds windows'
// claims: an outvoted window's reset pauses nothing.
func (r *rateHeaders) exhaustedWait(paced bool, win [2]bool) (time.Duration, bool) {
	var until time.Duration
	found := false
	for i := 0; i < r.n; i++ {
		d := &r.dims[i]
		if !d.hasRemain || d.remaining != 0 || !d.hasReset || !d.heeded(win) {
			continue
		}
		w := d.reset
		if d.bucket && paced {
			w = max(w-d.gran, 0)
		}
		if d.bucket && d.hasLimit && d.limit > 1 {
			w /= time.Duration(d.limit)
		}
		if !found || w > until {
			until, found = w, true
		}
	}
	return until, found
}

// explains reports whether the headers of a 429 for a request costing cost
// tokens account for it: a limit with little left (a tenth of it at most,
// or less than the cost) that paces the key, either a window (which pauses
// the key until it ends) whose claims the key heeds (win, per unit), or a
// bucket whose rate is learned for its unit (req, tok: a rate is learned
// for requests, tokens).
func (r *rateHeaders) explains(req, tok bool, win [2]bool, cost int) bool {
	for i := 0; i < r.n; i++ {
		d := &r.dims[i]
		short := !d.ample() || d.unit == unitTokens && d.remaining < int64(cost)
		if !d.hasRemain || !short || !d.hasReset || !d.heeded(win) {
			continue
		}
		switch {
		case !d.bucket:
			return true
		case d.unit == unitRequests && req, d.unit == unitTokens && tok:
			return true
		}
	}
	return false
}

// heeded reports whether d's claim counts, given which units' window
// claims the key heeds (win): a bucket's, and other units', always.
func (d *rateDim) heeded(win [2]bool) bool {
	return d.bucket || int(d.unit) >= len(win) || win[d.unit]
}

// ample reports whether the dimension has more than a tenth of its limit
// left (or, without a limit, anything): it does not explain a 429.
func (d *rateDim) ample() bool {
	if !d.hasRemain {
		return false
	}
	if d.hasLimit && d.limit > 0 {
		return d.remaining > d.limit/10
	}
	return d.remaining > 0
}

// resetHint is the wait hint a 429's reset headers give: the latest reset of
// the exhausted dimensions; else the general reset (X-RateLimit-Reset,
// RateLimit-Reset, RateLimit's t); else the earliest per-unit reset. A
// dimension with ample left does not explain the 429: its reset is no hint
// (Cerebras announces its daily limit while a silent per-minute one refuses).
func (r *rateHeaders) resetHint() (time.Duration, bool) {
	if d, ok := r.exhausted(); ok {
		return d, true
	}
	unexplained := func(d *rateDim) bool { return d.hasReset && !d.ample() }
	for _, fam := range [...]uint16{famX << 8, famIETF << 8, famIETFStructured << 8} {
		for i := 0; i < r.n; i++ {
			if d := &r.dims[i]; d.id == fam && unexplained(d) {
				return d.reset, true
			}
		}
	}
	var earliest time.Duration
	found := false
	for i := 0; i < r.n; i++ {
		if d := &r.dims[i]; unexplained(d) && (!found || d.reset < earliest) {
			earliest, found = d.reset, true
		}
	}
	return earliest, found
}

// parseCount parses a non-negative integer header value such as a remaining count.
func parseCount(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
