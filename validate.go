package llmretry

import (
	"math"
	"net/http"
	"strconv"
	"strings"
)

// check returns the error that net/http's Transport would return at once for
// a request that no attempt can send, so that such a request is neither sent
// nor retried nor charged to the retry budget. Its body is closed by the
// caller. Header fields are checked only when an attempt fails (see
// invalidHeader): a valid request should not pay for it.
func (t *Transport) check(req *http.Request) error {
	switch {
	case req == nil:
		return &requestError{msg: "llmretry: nil Request"}
	case req.URL == nil:
		return &requestError{msg: "llmretry: nil Request.URL"}
	case req.Header == nil:
		return &requestError{msg: "llmretry: nil Request.Header"}
	case req.Method != "" && !isToken(req.Method):
		return &requestError{msg: "llmretry: invalid method " + strconv.Quote(req.Method)}
	}
	if _, ok := t.base().(*http.Transport); ok && req.URL.Host == "" {
		return &requestError{msg: "llmretry: no Host in request URL"}
	}
	return nil
}

// checkConfig returns the error of a configuration no request can be sent
// under: a Transport.Hosts key that is not a host name, or limits that are
// negative, in pol or a fallback's policy. The Transport is a struct
// literal, so every RoundTrip returns it, naming the key or field.
func (t *Transport) checkConfig(pol *Policy, fallbacks []Target) error {
	t.once.Do(t.init)
	if t.hostsErr != nil {
		return &requestError{msg: "llmretry", err: t.hostsErr}
	}
	if err := pol.checkLimits(); err != nil {
		return err
	}
	for i := range fallbacks {
		if err := fallbacks[i].Policy.checkLimits(); err != nil {
			return err
		}
	}
	for i := range pol.pool() {
		m := &pol.Pool[i]
		if err := m.Policy.checkLimits(); err != nil {
			return err
		}
		if math.IsNaN(m.Weight) || math.IsInf(m.Weight, 0) {
			return &requestError{msg: "llmretry: Policy " + strconv.Quote(pol.name()) + ": Pool[" + strconv.Itoa(i) + "].Weight is " + strconv.FormatFloat(m.Weight, 'g', -1, 64) + "; it must be a finite number"}
		}
	}
	return nil
}

// checkLimits returns the error of p's invalid Limits, naming p; nil for a
// nil p.
func (p *Policy) checkLimits() error {
	if p == nil {
		return nil
	}
	if err := p.Limits.check(); err != nil {
		return &requestError{msg: "llmretry: Policy " + strconv.Quote(p.name()), err: err}
	}
	return nil
}

// invalidHeader returns the name of the first header field of h whose name
// or value no HTTP request may carry, or "".
func invalidHeader(h http.Header) string {
	for k, vs := range h {
		if !isToken(k) {
			return k
		}
		for _, v := range vs {
			if strings.IndexFunc(v, isCTL) >= 0 {
				return k
			}
		}
	}
	return ""
}

// isToken reports whether s is an RFC 9110 token (a method or a field name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isCTL reports whether r may not appear in a field value: a control
// character other than horizontal tab.
func isCTL(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }
