package llmretry

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
// headers and trailers in any spelling of their names, the userinfo of its URL, and the
// values of query parameters named like keys, tokens, signatures or passwords.
// It is meant for error paths: it allocates.
func requestSecrets(req *http.Request) secrets {
	if req == nil {
		return nil
	}
	var s secrets
	for _, h := range [...]http.Header{req.Header, req.Trailer} {
		for k, vs := range h {
			if isSecretName(k) {
				for _, v := range vs {
					s.addHeaderValue(v)
				}
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
// X-Goog-Api-Key, client_secret, Cookie, sig, password, code (Azure
// Functions' key), jwt, … in any case.
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
	switch n {
	case "sig", "pwd", "pass", "code", "jwt":
		return true // whole names only: "code" is in "Accept-Encoding"
	}
	return strings.HasSuffix(n, "signature") || strings.HasSuffix(n, "jwt")
}

// addHeaderValue adds the secrets of a credential header's value: its words
// (the credential after an auth scheme, "Bearer sk-…"), the values of its
// key=value lists (Cookie, Digest, AWS SigV4) with and without their keys (a
// key may itself hold "="), and the decoded user and password of Basic;
// not the values of listParam's parameters (the bare words after one are
// the rest of its list: SignedHeaders=content-type;host).
func (s *secrets) addHeaderValue(v string) {
	if v = strings.TrimSpace(v); !strings.ContainsAny(v, " \t") {
		s.add(v) // one word: all of it is the credential, "," and ";" too
	}
	words := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' })
	inList := false // the words since a listParam continue its value
	for i, w := range words {
		_, val, ok := strings.Cut(w, "=")
		if ok {
			inList = listParam(w)
		}
		if inList {
			continue // SigV4's SignedHeaders=content-type;host;x-amz-date names headers, not secrets
		}
		if ok {
			s.add(strings.Trim(val, `"`))
		}
		s.add(w)
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
		part, raw = nextParam(raw, "&;")
		name, val, _ := strings.Cut(part, "=")
		if !isSecretParam(name) {
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

// listParam reports whether a key=value word of an Authorization value is
// one of the parameters that describe the request rather than prove who
// sends it: SigV4's SignedHeaders, Digest's uri, realm, algorithm and qop.
// Their values are the request's own header names and path, not secrets.
func listParam(w string) bool {
	key, _, _ := strings.Cut(w, "=")
	switch strings.ToLower(key) {
	case "signedheaders", "uri", "realm", "algorithm", "qop":
		return true
	}
	return false
}

// nextParam splits the first parameter off a raw query, at the first of
// seps. It allocates nothing.
func nextParam(raw, seps string) (param, rest string) {
	if i := strings.IndexAny(raw, seps); i >= 0 {
		return raw[:i], raw[i+1:]
	}
	return raw, ""
}

// isSecretParam reports whether a query parameter's name, as written (%6Bey
// is key), looks like a secret's.
func isSecretParam(name string) bool {
	if isSecretName(name) {
		return true
	}
	n, err := url.QueryUnescape(name)
	return err == nil && n != name && isSecretName(n)
}

// withoutSecrets returns a raw query without its secret parameters: those
// named like a secret's, and those whose text holds one of s (a URL with
// the key in a parameter's value). Every other byte is kept as written.
func (s secrets) withoutSecrets(raw string) string {
	return filterParams(raw, func(param, name string) bool {
		return isSecretParam(name) || s.holds(param)
	})
}

// holds reports whether text holds one of the secrets, as a reader sees it.
func (s secrets) holds(text string) bool { return s.redact(text) != text }

// filterParams returns a raw query without the parameters drop reports,
// given the parameter and its name as written; every other byte is kept as
// written: the order, the escapes, a parameter without "=", ";" inside a
// value. Parameters are split at "&" and ";" (some servers split at both); a
// parameter removed takes a separator with it, and the one kept after it is
// joined by "&" if either separator was one, so that removing key from
// "a=1&key=k;b=2" keeps "a=1&b=2" for a server that splits at "&" only.
func filterParams(raw string, drop func(param, name string) bool) string {
	var b strings.Builder
	var sep byte // the separator before the next parameter kept
	kept, dropped := false, false
	for rest := raw; ; {
		param, after := nextParam(rest, "&;")
		name, _, _ := strings.Cut(param, "=")
		if drop(param, name) {
			dropped = true
		} else {
			if kept {
				b.WriteByte(sep)
			}
			b.WriteString(param)
			kept, sep = true, 0
		}
		if len(param) == len(rest) {
			break
		}
		if c := rest[len(param)]; sep != '&' {
			sep = c
		}
		rest = after
	}
	if !dropped {
		return raw
	}
	return b.String()
}

// add adds a secret, its percent-encoded forms, and the secret as a reader
// sees it (see next), if its own bytes look like escapes.
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
	if d := readable(v); len(d) >= minSecret && d != lowerASCII(v) {
		*s = append(*s, d)
	}
}

// redact replaces every secret in text, and every run of at least minSecret
// bytes that a secret starts with: a server that echoes a key cut short
// ("sk-live-abc…") leaks most of it. At each place, the longest run that
// any of the secrets starts with is replaced. Text is compared as a reader
// sees it (see next): ASCII case ignored (a server may echo a key upper- or
// lower-cased) and escapes decoded (a key quoted in JSON as "sk-a\/b", in
// HTML as "sk-a&#x2F;b", in a URL as "sk-a%2Fb").
func (s secrets) redact(text string) string {
	if len(s) == 0 || len(text) < minSecret {
		return text
	}
	var first [256]bool // the first bytes of the secrets, to skip the other places fast
	for _, secret := range s {
		first[secret[0]] = true
	}
	var b strings.Builder
	done := 0 // text[:done] is in b
	for i := 0; i < len(text); {
		c, w := lower(text[i]), 1 // next, inlined: most bytes are plain and start nothing
		if c == '\\' || c == '%' || c == '&' {
			c, w = unescape(text, i)
		}
		if !first[c] {
			i += w
			continue
		}
		end := s.run(text, i)
		if end < 0 {
			i += w
			continue
		}
		if done == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[done:i])
		b.WriteString(redactedMark)
		i = end
		done = i
	}
	if done == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}

// run returns the end in text of the longest run, from i on, that a secret
// starts with, if it is at least minSecret bytes long as a reader sees it,
// else -1.
func (s secrets) run(text string, i int) int {
	best := -1
	for _, secret := range s {
		j, k := i, 0
		for k < len(secret) && j < len(text) {
			c, w := lower(text[j]), 1 // next, inlined
			if c == '\\' || c == '%' || c == '&' {
				c, w = unescape(text, j)
			}
			if c != secret[k] {
				break
			}
			j, k = j+w, k+1
		}
		if k >= minSecret {
			best = max(best, j)
		}
	}
	return best
}

// maxEscape is the longest escape that next decodes ("&#x007F;").
const maxEscape = 8

// next returns the byte that text[i:] starts with as a reader sees it, and
// how many bytes of text it takes: an escape that stands for an ASCII
// character decoded (see unescape), ASCII letters lower-cased.
func next(text string, i int) (byte, int) {
	switch c := text[i]; {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A', 1
	case c == '\\' || c == '%' || c == '&':
		return unescape(text, i)
	default:
		return c, 1
	}
}

// unescape decodes the escape at text[i:], if there is one: JSON's \/, \\,
// \" and \u002f, percent-encoding's %2F, HTML's &#x2F;, &#47; and &lt; &gt;
// &amp; &quot; &apos;. Escapes are decoded once: %252F is "%2f".
func unescape(text string, i int) (byte, int) {
	c := text[i]
	switch c {
	case '\\':
		if i+1 < len(text) {
			switch d := text[i+1]; d {
			case '/', '\\', '"':
				return d, 2
			case 'u':
				if v, ok := hexValue(text[i+2 : min(i+6, len(text))]); ok && i+6 <= len(text) && v < 0x80 {
					return lower(byte(v)), 6
				}
			}
		}
	case '%':
		if i+3 <= len(text) {
			if v, ok := hexValue(text[i+1 : i+3]); ok {
				return lower(byte(v)), 3
			}
		}
	case '&':
		if d, w := entity(text[i:]); w > 0 {
			return lower(d), w
		}
	}
	return lower(c), 1
}

// entity decodes the HTML character reference that s starts with, if it
// stands for an ASCII character; w is 0 if it does not.
func entity(s string) (c byte, w int) {
	end := strings.IndexByte(s[:min(len(s), maxEscape)], ';')
	if end < 2 {
		return 0, 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	case "apos":
		return '\'', end + 1
	}
	var v int
	var ok bool
	switch {
	case len(name) > 2 && (name[1] == 'x' || name[1] == 'X') && name[0] == '#':
		v, ok = hexValue(name[2:])
	case len(name) > 1 && name[0] == '#':
		v, ok = decimalValue(name[1:])
	}
	if !ok || v >= 0x80 {
		return 0, 0
	}
	return byte(v), end + 1
}

// unfinished returns how many bytes at the end of text begin an escape that
// was cut short ("\u00", "%2", "&#x2"): at a cut, they are dropped, so that
// the start of a secret before them is seen for one.
func unfinished(text string) int {
	for j := max(len(text)-maxEscape+1, 0); j < len(text); j++ {
		tail := text[j:]
		switch tail[0] {
		case '\\':
			if len(tail) == 1 || (tail[1] == 'u' && len(tail) < 6 && isHex(tail[2:])) {
				return len(tail)
			}
		case '%':
			if len(tail) < 3 && isHex(tail[1:]) {
				return len(tail)
			}
		case '&':
			if strings.IndexByte(tail, ';') < 0 && isReferenceStart(tail[1:]) {
				return len(tail)
			}
		}
	}
	return 0
}

// isReferenceStart reports whether s, after an "&", may begin a character
// reference: a name, "#" and digits, or "#x" and hex digits.
func isReferenceStart(s string) bool {
	switch {
	case s == "" || s == "#":
		return true
	case s[0] == '#' && (s[1] == 'x' || s[1] == 'X'):
		return isHex(s[2:])
	case s[0] == '#':
		_, ok := decimalValue(s[1:])
		return ok
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// readable returns text as a reader sees it (see next).
func readable(text string) string {
	b := make([]byte, 0, len(text))
	for i := 0; i < len(text); {
		c, w := next(text, i)
		b = append(b, c)
		i += w
	}
	return string(b)
}

func hexValue(s string) (int, bool) {
	if s == "" || !isHex(s) {
		return 0, false
	}
	v, _ := strconv.ParseUint(s, 16, 32)
	return int(v), true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func decimalValue(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// cut redacts text and bounds it to n bytes. The first bytes of a secret
// left at the cut, too few for redact to take for one, are removed too.
//
// Only a window of text is redacted, so that a 64 KiB field costs what a
// short one does: redaction is greedy from the left, so the window's result
// agrees with the whole text's up to the last run it cut into, which starts
// at most minSecret characters, each at most maxEscape bytes, before its
// end. A window whose result is that much longer than n thus gives the same
// first n bytes.
func (s secrets) cut(text string, n int) string {
	for w := 2*n + 64; ; w *= 2 {
		if w >= len(text) {
			text = s.redact(text)
			break
		}
		if out := s.redact(truncate(text, w)); len(out) >= n+minSecret*maxEscape {
			text = out
			break
		}
	}
	if len(text) <= n {
		return text
	}
	return s.trimPartial(truncate(text, n))
}

// trimPartial removes from the end of text, cut short, an unfinished escape
// and the first bytes of a secret.
func (s secrets) trimPartial(text string) string {
	text = text[:len(text)-unfinished(text)]
	for trimmed := true; trimmed; {
		trimmed = false
		for _, secret := range s {
			if k := s.partial(text, secret); k > 0 {
				text, trimmed = text[:k], true
			}
		}
	}
	return text
}

// partial returns where the longest start of secret, of at least minPartial
// characters but not all of it, that text ends with begins in text, as a
// reader sees it; 0 if none does.
func (s secrets) partial(text, secret string) int {
	start := max(len(text)-(len(secret)-1)*maxEscape, 0)
	for i := start; i < len(text); {
		c, w := next(text, i)
		if c == secret[0] {
			j, k := i, 0
			for j < len(text) && k < len(secret)-1 {
				d, dw := next(text, j)
				if d != secret[k] {
					break
				}
				j, k = j+dw, k+1
			}
			if j == len(text) && k >= minPartial {
				return i
			}
		}
		i += w
	}
	return 0
}

// lowerASCII lower-cases the ASCII letters of s, keeping every byte offset.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// lower lower-cases an ASCII letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
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
