package llmretry

import (
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
