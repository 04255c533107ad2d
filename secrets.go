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
// (Basic, percent-encoding) and percent-encoded; ASCII lower-cased.
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
			p, _ := u.User.Password()
			s.add(p)
			user, pass, _ := strings.Cut(u.User.String(), ":") // as URL.String writes them
			s.add(user)
			s.add(pass)
		}
		s.addQuery(u.RawQuery)
		if _, q, ok := strings.Cut(u.Opaque, "?"); ok {
			s.addQuery(q) // an opaque URL is sent as written, query and all
		}
	}
	slices.Sort(s)
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

// addHeaderValue adds the secrets of a credential header's value: its words
// (the credential after an auth scheme, "Bearer sk-…"), the values of its
// key=value lists (Cookie, Digest, AWS SigV4) with and without their keys (a
// key may itself hold "="), and the decoded user and password of Basic.
func (s *secrets) addHeaderValue(v string) {
	if v = strings.TrimSpace(v); !strings.ContainsAny(v, " \t") {
		s.add(v) // one word: all of it is the credential, "," and ";" too
	}
	words := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' })
	for i, w := range words {
		s.add(w)
		if _, val, ok := strings.Cut(w, "="); ok {
			s.add(strings.Trim(val, `"`))
		}
		if i == 1 && strings.EqualFold(words[0], "Basic") {
			b, err := base64.StdEncoding.DecodeString(w)
			if err != nil {
				b, err = base64.RawStdEncoding.DecodeString(w)
			}
			if err == nil {
				user, pass, _ := strings.Cut(string(b), ":")
				s.add(user)
				s.add(pass)
			}
		}
	}
}

// addQuery adds the values of a raw query's secret parameters, as written
// and decoded. Names are matched decoded, so %6Bey=… is a key too; pairs are
// split at ";" as well as "&", as some servers do.
func (s *secrets) addQuery(raw string) {
	for raw != "" {
		var part string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			part, raw = raw[:i], raw[i+1:]
		} else {
			part, raw = raw, ""
		}
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
	*s = append(*s, lowerASCII(v))
	if e := url.QueryEscape(v); e != v {
		*s = append(*s, lowerASCII(e))
	}
	if e := url.PathEscape(v); e != v {
		*s = append(*s, lowerASCII(e))
	}
}

// redact replaces every secret in text, ignoring ASCII case (a server may
// echo a key upper- or lower-cased), and every run of at least minSecret
// bytes that a secret starts with: a server that echoes a key cut short
// ("sk-live-abc…") leaks most of it. At each place, the longest run that
// any of the secrets starts with is replaced.
func (s secrets) redact(text string) string {
	if len(s) == 0 || len(text) < minSecret {
		return text
	}
	var first [256]bool // the first bytes of the secrets, to skip the other places fast
	for _, secret := range s {
		first[secret[0]] = true
	}
	lower := lowerASCII(text)
	var b strings.Builder
	done := 0 // text[:done] is in b
	for i := 0; i+minSecret <= len(lower); {
		if !first[lower[i]] {
			i++
			continue
		}
		n := s.run(lower[i:])
		if n == 0 {
			i++
			continue
		}
		if done == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[done:i])
		b.WriteString(redactedMark)
		i += n
		done = i
	}
	if done == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}

// run returns the length of the longest start of a secret that text starts
// with, if it is at least minSecret bytes long, else 0. text is lower-cased.
func (s secrets) run(text string) int {
	best := 0
	for _, secret := range s {
		if text[:minSecret] != secret[:minSecret] {
			continue
		}
		n := minSecret
		for n < len(secret) && n < len(text) && text[n] == secret[n] {
			n++
		}
		best = max(best, n)
	}
	return best
}

// cut redacts text and bounds it to n bytes. The first bytes of a secret
// left at the cut, too few for redact to take for one, are removed too.
//
// Only a window of text is redacted, so that a 64 KiB field costs what a
// short one does: redaction is greedy from the left, so the window's result
// agrees with the whole text's up to the last run it cut into, which starts
// at most minSecret bytes before its end. A window whose result is at least
// n+minSecret long thus gives the same first n bytes.
func (s secrets) cut(text string, n int) string {
	for w := 2*n + 64; ; w *= 2 {
		if w >= len(text) {
			text = s.redact(text)
			break
		}
		if out := s.redact(truncate(text, w)); len(out) >= n+minSecret {
			text = out
			break
		}
	}
	if len(text) <= n {
		return text
	}
	return s.trimPartial(truncate(text, n))
}

// trimPartial removes from the end of text the first bytes of a secret.
func (s secrets) trimPartial(text string) string {
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
