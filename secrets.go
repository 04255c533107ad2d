package llmretry

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// credentialHeaders are the request headers that carry an API credential, in
// the order the pacer looks for one (see credential). Redaction covers these
// and every other header whose name looks like a secret's (isSecretName).
var credentialHeaders = [...]string{"Authorization", "X-Api-Key", "Api-Key", "Proxy-Authorization", "X-Goog-Api-Key"}

// Secret values shorter than minSecret are not redacted: replacing every
// "1" or "abc" in a message would destroy it, and such values guard nothing.
// A partial secret at a cut is removed from minPartial bytes on.
const (
	minSecret  = 8
	minPartial = 4
)

// redactedMark replaces a secret in text.
const redactedMark = "[redacted]"

// secrets are the credential values of one request, in every form a server
// may echo them: as sent, without their scheme ("Bearer …"), decoded
// (Basic, percent-encoding) and percent-encoded. Longest first, so that a
// secret is replaced before any shorter one it contains.
type secrets []string

// requestSecrets collects the secrets of req: the values of its credential
// headers in any spelling of their names, the userinfo of its URL, and the
// values of query parameters named like keys, tokens, signatures or passwords.
// It is meant for error paths: it allocates.
func requestSecrets(req *http.Request) secrets {
	if req == nil {
		return nil
	}
	var s secrets
	for k, vs := range req.Header {
		if isSecretName(k) {
			for _, v := range vs {
				s.addHeaderValue(v)
			}
		}
	}
	if u := req.URL; u != nil {
		if u.User != nil {
			s.add(u.User.Username())
			if p, ok := u.User.Password(); ok {
				s.add(p)
			}
			s.add(u.User.String())
		}
		s.addQuery(u.RawQuery)
	}
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(s)
}

// isSecretName reports whether a header or query parameter name looks like
// it carries a secret: Authorization, X-Api-Key, api-key, access_token,
// X-Goog-Api-Key, client_secret, Cookie, sig, password, … in any case.
func isSecretName(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == '_' || r == '.':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, name)
	for _, part := range [...]string{"auth", "key", "token", "secret", "passw", "cookie", "session", "credential", "bearer"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return n == "sig" || n == "signature" || strings.HasSuffix(n, "signature") || n == "pwd"
}

// addHeaderValue adds a credential header's value, whole and in parts: the
// credential after an auth scheme, the values of key=value lists (Cookie,
// Digest, AWS SigV4) and the decoded user and password of Basic.
func (s *secrets) addHeaderValue(v string) {
	s.add(v)
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' }) {
		s.add(f)
		if _, val, ok := strings.Cut(f, "="); ok {
			s.add(strings.Trim(val, `"`))
		}
	}
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok && strings.EqualFold(scheme, "Basic") {
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
			user, pass, _ := strings.Cut(string(b), ":")
			s.add(string(b))
			s.add(user)
			s.add(pass)
		}
	}
}

// addQuery adds the values of a raw query's secret parameters, as written
// and decoded. Names are matched decoded, so %6Bey=… is a key too.
func (s *secrets) addQuery(raw string) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		name, val, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !isSecretName(name) {
			continue
		}
		s.add(val)
		if v, err := url.QueryUnescape(val); err == nil {
			s.add(v)
		}
		if v, err := url.PathUnescape(val); err == nil {
			s.add(v)
		}
	}
}

// add adds a secret and its percent-encoded forms.
func (s *secrets) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) < minSecret {
		return
	}
	*s = append(*s, v)
	if e := url.QueryEscape(v); e != v {
		*s = append(*s, e)
	}
	if e := url.PathEscape(v); e != v {
		*s = append(*s, e)
	}
}

// redact replaces every occurrence of a secret in text, ignoring ASCII case
// (a server may echo a key upper- or lower-cased).
func (s secrets) redact(text string) string {
	if len(s) == 0 || len(text) < minSecret {
		return text
	}
	lower := lowerASCII(text)
	for _, secret := range s {
		ls := lowerASCII(secret)
		i := strings.Index(lower, ls)
		if i < 0 {
			continue
		}
		var b strings.Builder
		b.Grow(len(text))
		rest, lrest := text, lower
		for i >= 0 {
			b.WriteString(rest[:i])
			b.WriteString(redactedMark)
			rest, lrest = rest[i+len(secret):], lrest[i+len(secret):]
			i = strings.Index(lrest, ls)
		}
		b.WriteString(rest)
		text = b.String()
		lower = lowerASCII(text)
	}
	return text
}

// cut redacts text and bounds it to n bytes. A secret that the cut splits is
// removed too: what is left of it before the cut would leak its first bytes.
func (s secrets) cut(text string, n int) string {
	text = s.redact(text)
	if len(text) <= n {
		return text
	}
	text = truncate(text, n)
	for trimmed := true; trimmed; {
		trimmed = false
		for _, secret := range s {
			for k := min(len(secret)-1, len(text)); k >= minPartial; k-- {
				if strings.EqualFold(text[len(text)-k:], secret[:k]) {
					text, trimmed = text[:len(text)-k], true
					break
				}
			}
		}
	}
	return text
}

// lowerASCII lower-cases the ASCII letters of s, keeping every byte offset.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Bounds of the body-derived fields of a Verdict.
const (
	maxMessage = 1 << 10 // Verdict.Message
	maxField   = 256     // Type, Code and Param
	maxID      = 128     // RequestID
)

// sanitize redacts the secrets from every field of v that the server or the
// network wrote, and bounds their length. It is the one place where what an
// attempt got is made fit for errors, logs and hooks.
func (v Verdict) sanitize(s secrets) Verdict {
	v.Type = s.cut(v.Type, maxField)
	v.Code = s.cut(v.Code, maxField)
	v.Param = s.cut(v.Param, maxField)
	v.Message = s.cut(v.Message, maxMessage)
	v.RequestID = s.cut(v.RequestID, maxID)
	v.Err = redactErr(v.Err, s)
	return v
}
