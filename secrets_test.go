package llmretry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestRequestSecrets(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://bob:p%40ss-w0rd-9@api.example.com/v1?model=gpt&%6Bey=AIza-Query-Key-1&access_token=tok%2Fen-123456&note=not-a-secret;api_key=semicolon-key-1")
	req := &http.Request{URL: u, Header: http.Header{
		"authorization": {"Bearer sk-lower-case-key"},
		"X-Api-Key":     {"xak-canonical-key", "semi;colon,comma-key"},
		"Cookie":        {"theme=dark; session=cookie-session-value"},
		"Content-Type":  {"application/json-not-secret"},
		"Idempotency":   {"idem-not-a-secret-1"},
	}}
	got := requestSecrets(req)
	for _, want := range []string{"sk-lower-case-key", "xak-canonical-key", "cookie-session-value", "p@ss-w0rd-9", "p%40ss-w0rd-9",
		"aiza-query-key-1", "tok/en-123456", "tok%2fen-123456", "semicolon-key-1", "semi;colon,comma-key"} {
		if !slices.Contains(got, want) {
			t.Errorf("secrets lack %q: %q", want, got)
		}
	}
	for _, s := range got {
		if strings.Contains(s, "not-secret") || strings.Contains(s, "not-a-secret") || strings.HasPrefix(s, "bearer") {
			t.Errorf("%q is not a secret", s)
		}
	}
	opaque := requestSecrets(&http.Request{URL: &url.URL{Scheme: "https", Opaque: "//api.example.com/v1?key=opaque-query-key"}})
	if !slices.Contains(opaque, "opaque-query-key") {
		t.Errorf("the query of an opaque URL is not scanned: %q", opaque)
	}
	if requestSecrets(nil) != nil || requestSecrets(&http.Request{}) != nil {
		t.Error("a request without credentials has secrets")
	}
}

func TestSecretsCut(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdefghij"
	s := secrets{key}
	pad := func(n int) string { return strings.Repeat(".", n) }
	tests := []struct {
		name, text string
		n          int
		want       string
	}{
		{"whole key", "bad key " + key + " here", 100, "bad key [redacted] here"},
		{"upper-cased", "bad key " + strings.ToUpper(key), 100, "bad key [redacted]"},
		{"every occurrence", key + key + "," + key, 100, "[redacted][redacted],[redacted]"},
		{"echoed cut short", "key " + key[:20] + "...", 100, "key [redacted]..."},
		{"masked by the server", "key sk-live-****ghij", 100, "key [redacted]****ghij"},
		{"7 bytes are not a key", "sk-live", 100, "sk-live"},
		{"straddling the cut", pad(90) + key, 100, pad(90) + "[redacted]"},
		{"straddling the cut, one byte in", pad(99) + key, 100, pad(99) + "["},
		{"a short prefix left at the cut", pad(95) + "sk-li" + "ve", 100, pad(95)},
		{"3 bytes left at the cut stay", pad(97) + "sk-" + "li", 100, pad(97) + "sk-"},
		{"no cut, short prefix at the end stays", pad(10) + "sk-li", 100, pad(10) + "sk-li"},
		{"utf-8 kept whole", pad(99) + "é", 100, pad(99)},
	}
	for _, tt := range tests {
		if got := s.cut(tt.text, tt.n); got != tt.want {
			t.Errorf("%s: cut = %q, want %q", tt.name, got, tt.want)
		}
		if got := s.cut(tt.text, tt.n); len(got) > tt.n {
			t.Errorf("%s: %d bytes, want at most %d", tt.name, len(got), tt.n)
		}
	}
	if got := (secrets)(nil).cut(pad(300), 256); got != pad(256) {
		t.Errorf("without secrets, cut = %d bytes, want 256", len(got))
	}
}

// TestSecretsLongestRun: where two forms of secrets start alike, the longest
// run is redacted, so that no form's tail is left behind.
func TestSecretsLongestRun(t *testing.T) {
	t.Parallel()
	s := requestSecrets(&http.Request{Header: http.Header{"X-Api-Key": {"sk-live/abc+def=ghijklmn"}}})
	for _, text := range []string{"sk-live/abc+def=ghijklmn", "sk-live%2Fabc%2Bdef%3Dghijklmn", "sk-live%2Fabc+def=ghijklmn"} {
		if got := s.redact("k " + text + " x"); got != "k [redacted] x" {
			t.Errorf("redact(%q) = %q", text, got)
		}
	}
}

// TestWatchedBody: a read error is the body's failure unless Close
// interrupted the read (the Base closes the body when the network fails).
func TestWatchedBody(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	w := &watchedBody{ReadCloser: io.NopCloser(&failingReader{n: 1, err: boom})}
	io.ReadAll(w)
	if !errors.Is(w.failed(), boom) {
		t.Errorf("failed() = %v, want %v", w.failed(), boom)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	w = &watchedBody{ReadCloser: pr}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.ReadAll(w) // blocks until Close
	}()
	w.Close()
	<-done
	if err := w.failed(); err != nil {
		t.Errorf("failed() = %v after Close interrupted the read, want nil", err)
	}
	if (*watchedBody)(nil).failed() != nil {
		t.Error("a nil watchedBody failed")
	}
}

func TestInMemory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    io.Reader
		want bool
	}{
		{strings.NewReader("x"), true},
		{io.NopCloser(strings.NewReader("x")), true},
		{io.NopCloser(bytes.NewReader(nil)), true},
		{io.NopCloser(new(bytes.Buffer)), true},
		{http.NoBody, true},
		{io.NopCloser(nil), false},
		{io.NopCloser(&failingReader{}), false},
		{io.NopCloser(io.NopCloser(strings.NewReader("x"))), false}, // one level only, as net/http
		{&countingBody{Reader: strings.NewReader("x")}, false},
		{nil, false},
	}
	for i, tt := range tests {
		if got := inMemory(tt.r); got != tt.want {
			t.Errorf("%d: inMemory(%T) = %v, want %v", i, tt.r, got, tt.want)
		}
	}
}

// TestSecretsCutWindow: cut redacts only a window of a long text; the result
// is the same as redacting it all, wherever a secret falls (across the
// window's edge too), and however much redaction shrinks the text.
func TestSecretsCutWindow(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdefghijklmnopqrstuvwxyz" // 44 bytes: redaction shrinks it to 10
	s := secrets{key}
	reference := func(text string, n int) string { // the whole text redacted, then cut
		text = s.redact(text)
		if len(text) <= n {
			return text
		}
		return s.trimPartial(truncate(text, n))
	}
	const n = 256
	window := 2*n + 64
	var texts []string
	for p := window - len(key) - 2; p <= window+2; p++ {
		texts = append(texts, strings.Repeat(".", p)+key+strings.Repeat("-", 600))
	}
	for p := n - 8; p <= n; p++ { // a short start of the key at the cut
		texts = append(texts, strings.Repeat(".", p)+key[:7]+"!"+strings.Repeat(".", 900))
	}
	for k := 1; k <= 60; k++ { // k keys in a row: 44k bytes redacted to 10k
		texts = append(texts, strings.Repeat(key, k)+strings.Repeat(".", 300), strings.Repeat(key+"x", k))
	}
	trims := 0
	for _, text := range texts {
		if got := s.cut(text, n); len(got) < n-minPartial {
			trims++
		}
		if got, want := s.cut(text, n), reference(text, n); got != want {
			t.Fatalf("cut of %d bytes = %q,\nwant %q", len(text), got, want)
		}
	}
	if trims == 0 {
		t.Error("no text had a key's start trimmed at the cut: the test checks less than it says")
	}
}

// TestSecretsEscaped: a secret echoed in an escaped form — JSON's \/ and
// \u002f (a proxy quoting an upstream's JSON body in its message, as PHP
// writes it), HTML entities, percent-encoding, any mix of them — is
// redacted as a run of the secret; so is a short start of it that a cut
// leaves, even when the cut splits an escape.
func TestSecretsEscaped(t *testing.T) {
	t.Parallel()
	const key = "sk-live/S3cr3T+k3y=Zq9xW2vB7nM4pL6"
	s := requestSecrets(&http.Request{Header: http.Header{"X-Api-Key": {key}}})
	for _, form := range []string{
		`sk-live\/S3cr3T+k3y=Zq9xW2vB7nM4pL6`,
		`sk-live\u002fS3cr3T\u002Bk3y\u003dZq9xW2vB7nM4pL6`,
		`sk-live&#x2F;S3cr3T&#43;k3y&#61;Zq9xW2vB7nM4pL6`,
		`sk-live%2FS3cr3T+k3y%3DZq9xW2vB7nM4pL6`,
		`SK-LIVE\/S3CR3T\u002bK3Y=ZQ9XW2VB7NM4PL6`,
		`sk-live\/S3cr3T`, // cut short by the server
	} {
		if got := s.redact(`{"key":"` + form + `"}`); got != `{"key":"[redacted]"}` {
			t.Errorf("redact(%q) = %q", form, got)
		}
	}
	// A secret with an escape-like sequence of its own is found as sent.
	odd := requestSecrets(&http.Request{Header: http.Header{"X-Api-Key": {`p&lt;ss%41w\/rd-1`}}})
	for _, form := range []string{`p&lt;ss%41w\/rd-1`, `p<ssaw/rd-1`} {
		if got := odd.redact("k " + form + " x"); got != "k [redacted] x" {
			t.Errorf("redact(%q) = %q", form, got)
		}
	}
	// 4 to 7 bytes of the secret at the cut, escapes split or not, go.
	for _, end := range []string{`sk-live`, `sk-live\`, `sk-live\u00`, `sk-live&#x2`, `sk-live%2`, `sk-l`} {
		text := strings.Repeat(".", 95) + end + strings.Repeat("x", 100)
		got := s.cut(text, 95+len(end))
		if rest, ok := strings.CutPrefix(got, strings.Repeat(".", 95)); !ok || !strings.HasPrefix(redactedMark, rest) {
			t.Errorf("cut at %q = %q, want the dots alone or redacted", end, got)
		}
	}
	// Escapes that are not the secret's are left as they are.
	for _, text := range []string{`50% of "sk-" keys &amp; \u00e9 \/v1 &#x2F;`, `&`, `%`, `\`, `\u`, `&#x;`} {
		if got := s.redact(text); got != text {
			t.Errorf("redact(%q) = %q, want it unchanged", text, got)
		}
	}
}

// TestSecretsCutWindowEscaped: with escapes in the text, each one several
// bytes for one character, the window still gives what redacting the whole
// text gives, for texts made of pieces of a secret, escaped or not, and
// filler, around the window's edge.
func TestSecretsCutWindowEscaped(t *testing.T) {
	t.Parallel()
	const key = "sk-live/S3cr3T+k3y=Zq9xW2vB7nM4pL6"
	s := requestSecrets(&http.Request{Header: http.Header{"X-Api-Key": {key}}})
	escaped := func(c byte) []string {
		return []string{string(c), fmt.Sprintf(`\u%04x`, c), fmt.Sprintf("%%%02X", c), fmt.Sprintf("&#x%02x;", c), fmt.Sprintf("&#%d;", c)}
	}
	reference := func(text string, n int) string {
		text = s.redact(text)
		if len(text) <= n {
			return text
		}
		return s.trimPartial(truncate(text, n))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 256
	for iter := 0; iter < 3000; iter++ {
		var b strings.Builder
		for b.Len() < 2*n+64+rng.IntN(400)-200 {
			switch rng.IntN(3) {
			case 0: // a start of the key, each character maybe escaped
				for _, c := range []byte(key[:1+rng.IntN(len(key))]) {
					forms := escaped(c)
					b.WriteString(forms[rng.IntN(len(forms))])
				}
			case 1:
				b.WriteString(strings.Repeat(".", rng.IntN(40)))
			default:
				b.WriteString([]string{`\`, `%`, `&`, `&#`, `\u00`, `&amp;`, `%2`}[rng.IntN(7)])
			}
		}
		text := b.String()
		if got, want := s.cut(text, n), reference(text, n); got != want {
			t.Fatalf("cut of %q\n= %q,\nwant %q", text, got, want)
		}
	}
}
