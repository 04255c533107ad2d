package llmretry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// leakSecret is the credential the leak tests send. It has characters that
// percent-encoding changes, and every 8-byte window of it has a letter, so
// that no timestamp or count can look like a piece of it.
const leakSecret = "sk-live/S3cr3T+k3y=Zq9xW2vB7nM4pL6"

// entrance is one way a request carries the secret.
type entrance struct {
	name string
	set  func(r *http.Request) // puts the secret in the request
	sent string                // the secret as the request carries it, when encoded
}

func leakEntrances() []entrance {
	header := func(key, value string) entrance {
		return entrance{name: "header " + key, set: func(r *http.Request) { r.Header[key] = []string{value} }}
	}
	query := func(name string) entrance {
		return entrance{name: "query " + name, sent: url.QueryEscape(leakSecret),
			set: func(r *http.Request) {
				r.URL.RawQuery = "model=x&" + name + "=" + url.QueryEscape(leakSecret) + "&stream=false"
			}}
	}
	basic := base64.StdEncoding.EncodeToString([]byte("user:" + leakSecret))
	es := []entrance{
		header("Authorization", "Bearer "+leakSecret),
		header("authorization", "Bearer "+leakSecret),
		header("AUTHORIZATION", "bearer "+leakSecret),
		header("X-Api-Key", leakSecret),
		header("x-api-key", leakSecret),
		header("api-key", leakSecret),
		header("Api-Key", leakSecret),
		header("x-goog-api-key", leakSecret),
		header("Proxy-Authorization", "Bearer "+leakSecret),
		header("X-Auth-Token", leakSecret),
		header("Ocp-Apim-Subscription-Key", leakSecret),
		header("Cookie", "theme=dark; session="+leakSecret),
		{name: "header Authorization Basic", sent: basic, set: func(r *http.Request) { r.Header["Authorization"] = []string{"Basic " + basic} }},
		query("key"), query("api-key"), query("api_key"), query("apikey"), query("access_token"),
		query("token"), query("KEY"), query("%6Bey"), query("x-goog-api-key"), query("sig"), query("client_secret"), query("code"),
		{name: "userinfo password", sent: url.UserPassword("user", leakSecret).String(),
			set: func(r *http.Request) { r.URL.User = url.UserPassword("user", leakSecret) }},
		{name: "userinfo user", sent: url.User(leakSecret).String(), set: func(r *http.Request) { r.URL.User = url.User(leakSecret) }},
		{name: "trailer X-Api-Key", set: func(r *http.Request) { r.Trailer = http.Header{"X-Api-Key": {leakSecret}}; r.ContentLength = -1 }},
	}
	return es
}

// leakField is a place where a server's answer can echo the secret.
type leakField struct {
	name  string
	bound int // the length it is cut to; 0: not cut
}

var leakFields = []leakField{
	{"message", maxMessage}, {"code", maxField}, {"type", maxField}, {"param", maxField},
	{"request-id", maxID}, {"transport error", 0},
}

// echoBase is a Base that echoes text in one field of its answer.
func echoBase(status int, field, text string) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		if field == "transport error" {
			return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: fmt.Errorf("upstream refused %s with headers %v", text, r.Header)}
		}
		e := map[string]string{"message": "bad", "type": "invalid_request_error", "code": "invalid_api_key", "param": "model"}
		h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}}
		if field == "request-id" {
			h.Set("X-Request-Id", text)
		} else {
			e[field] = text
		}
		b, _ := json.Marshal(map[string]any{"error": e})
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: r}, nil
	})
}

// exits gathers every place a secret could leave through: errors and their
// messages, APIError fields, ParseError and Classify, slog at Debug and
// Observer.AttemptEnd.
type exits struct {
	mu   sync.Mutex
	logs bytes.Buffer
	out  []string
}

func (x *exits) add(format string, args ...any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.out = append(x.out, fmt.Sprintf(format, args...))
}

func (x *exits) Write(p []byte) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.logs.Write(p)
}

func (x *exits) transport(base http.RoundTripper, returnErrors bool) *Transport {
	return &Transport{
		Base:         base,
		Policy:       &Policy{Backoff: func(int) time.Duration { return 0 }, AttemptTimeout: 5 * time.Second},
		ReturnErrors: returnErrors,
		Logger:       slog.New(slog.NewJSONHandler(x, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: onAttempt(func(a AttemptInfo) {
			a.Context = nil // the caller's own
			x.add("hook %+v %v", a, a.Verdict.Err)
		}),
	}
}

// roundTrip sends req through tr and records what comes out.
func (x *exits) roundTrip(tr *Transport, req *http.Request) {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		x.add("error %v / %+v / %#v", err, err, err.Error())
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			x.add("APIError %+v", *apiErr)
		}
		return
	}
	defer resp.Body.Close()
	if e := ParseError(resp, tr.Policy); e != nil {
		x.add("ParseError %+v %v", *e, e)
	}
	v := tr.Policy.Classify(resp, nil)
	x.add("Classify %+v", v)
}

// jsonEscapeAll writes every byte of s but letters and digits as a JSON \u escape.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
	}
	return b.String()
}

// jsonUnescape decodes the \/ and \uXXXX escapes of s, as a JSON decoder would.
func jsonUnescape(s string) string {
	s = strings.ReplaceAll(s, `\/`, "/")
	return jsonUnicodeEscape.ReplaceAllStringFunc(s, func(m string) string {
		var r string
		if json.Unmarshal([]byte(`"`+m+`"`), &r) != nil {
			return m
		}
		return r
	})
}

var jsonUnicodeEscape = regexp.MustCompile(`\\u[0-9a-fA-F]{4}`)

// leaked returns the first output holding all of the secret as sent, or a
// piece of it, in any case, percent-encoded or not, or "". A piece is 8
// bytes starting at a multiple of 4: any run of 11 bytes of the secret holds
// one. (A secret's first 3 bytes may be left at a cut; "sk-" says nothing.)
func (x *exits) leaked(sent string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var pieces []string
	for i := 0; i+8 <= len(leakSecret); i += 4 {
		pieces = append(pieces, strings.ToLower(leakSecret[i:i+8]))
	}
	if sent != "" {
		pieces = append(pieces, strings.ToLower(sent))
	}
	for _, out := range append(x.out, x.logs.String()) {
		texts := []string{out}
		if u, err := url.QueryUnescape(out); err == nil && u != out {
			texts = append(texts, u)
		}
		if u, err := url.PathUnescape(out); err == nil && u != out {
			texts = append(texts, u)
		}
		if u := html.UnescapeString(out); u != out {
			texts = append(texts, u)
		}
		if u := jsonUnescape(out); u != out {
			texts = append(texts, u)
		}
		for _, text := range texts {
			text = strings.ToLower(text)
			for _, p := range pieces {
				if strings.Contains(text, p) {
					return out
				}
			}
		}
	}
	return ""
}

// TestNoCredentialLeaks sends a secret in every way a request can carry one
// (any spelling of a credential header, the query string, the URL's
// userinfo), has the server echo it back in every field of its answer (the
// message, code, type and param of the body, the request id, a transport
// error) in every form (as sent, decoded, encoded, upper-cased, cut short),
// at every
// offset around the field's cut, and checks every way out: the error and
// its message, APIError, ParseError, Classify, slog at Debug and Observer.AttemptEnd.
func TestNoCredentialLeaks(t *testing.T) {
	t.Parallel()
	entrances := leakEntrances()
	for i, in := range entrances {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			forms := []string{leakSecret, url.QueryEscape(leakSecret), url.PathEscape(leakSecret), strings.ToUpper(leakSecret),
				leakSecret[:len(leakSecret)-3] + "...", leakSecret[:8] + "****" + leakSecret[len(leakSecret)-4:], // cut short, masked
				// escaped: JSON as PHP writes it, JSON \u, HTML entities, a mix
				strings.ReplaceAll(leakSecret, "/", `\/`), jsonEscapeAll(leakSecret),
				strings.NewReplacer("/", "&#x2F;", "+", "&#43;", "=", "&#x3d;").Replace(leakSecret),
				strings.NewReplacer("/", "%2F", "+", "&#43;", "=", `\u003D`).Replace(leakSecret)}
			if in.sent != "" {
				forms = append(forms, in.sent)
			}
			// Every offset around every cut for one header, one query and one
			// userinfo entrance; the others at a few offsets.
			everyOffset := i == 1 || in.name == "query key" || in.name == "userinfo password"
			for _, f := range leakFields {
				for _, form := range forms {
					for j, pad := range paddings(f.bound, len(form), everyOffset) {
						text := strings.Repeat(".", pad) + form + " is not a valid key"
						status := [...]int{401, 503}[j%2] // final at once; retried, then exhausted
						x := &exits{}
						for _, returnErrors := range []bool{true, false} {
							req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://api.example.com/v1/chat/completions", strings.NewReader(chatBody))
							in.set(req)
							x.roundTrip(x.transport(echoBase(status, f.name, text), returnErrors), req)
						}
						if out := x.leaked(in.sent); out != "" {
							t.Fatalf("%s echoed in %s (%d, offset %d) leaks:\n%s", form, f.name, status, pad, out)
						}
						if len(x.out) < 4 || x.logs.Len() == 0 {
							t.Fatalf("%d outputs, %d bytes logged: the test checks nothing", len(x.out), x.logs.Len())
						}
					}
				}
			}
		})
	}
}

// paddings are the lengths of text before a secret of length n in a field
// cut at bound: every offset at which the cut falls in or next to it, or
// only a few.
func paddings(bound, n int, every bool) []int {
	if bound == 0 {
		return []int{0, 100}
	}
	if !every {
		return []int{0, bound - n/2, bound - n + minPartial, bound - minPartial}
	}
	var ps []int
	for p := max(bound-n-2, 0); p <= bound+1; p++ {
		ps = append(ps, p)
	}
	return append(ps, 0)
}

// TestNoCredentialLeaksOnTheWire runs the failure classes of a real server
// (auth with the key echoed, rate limits, quota, server errors, overload,
// resets, slow headers, refused connections) with keys in a non-canonical
// header, the query string and the userinfo, through net/http.
func TestNoCredentialLeaksOnTheWire(t *testing.T) {
	t.Parallel()
	dead := deadURL(t)
	srv := llmretrytest.Start(t)
	echo := "Incorrect API key provided: " + leakSecret + ". You can find your API key at https://example.com."
	steps := map[string][]llmretrytest.Step{
		"auth, key echoed":   {llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: echo})},
		"rate limit echoed":  {llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 429, Code: leakSecret, Message: echo})},
		"quota":              {llmretrytest.Dialect("gptgob").QuotaExhausted()},
		"server errors":      {llmretrytest.Dialect("openai").ServerError(), llmretrytest.Dialect("openai").ServerError(), llmretrytest.Dialect("openai").ServerError()},
		"overload":           {llmretrytest.Dialect("cencori").Overloaded(0), llmretrytest.Dialect("cencori").Overloaded(0), llmretrytest.Dialect("cencori").Overloaded(0)},
		"resets":             {{Reset: true}, {Reset: true}, {Reset: true}},
		"slow headers":       {{Delay: time.Second}, {Delay: time.Second}, {Delay: time.Second}},
		"content filter":     {llmretrytest.Dialect("cencori").Error(llmretrytest.ErrorReply{Status: 403, Code: "SECURITY_VIOLATION", Message: echo})},
		"context length":     {llmretrytest.Dialect("sambanova").Error(llmretrytest.ErrorReply{Status: 400, Code: "context_length_exceeded", Message: echo})},
		"connection refused": nil,
	}
	var entrances []entrance
	for _, in := range leakEntrances() {
		switch in.name {
		case "header x-api-key", "header authorization", "query key", "userinfo password":
			entrances = append(entrances, in)
		}
	}
	x := &exits{}
	for name, script := range steps {
		for _, in := range entrances {
			srv.Enqueue(script...)
			target := srv.URL
			if script == nil {
				target = dead
			}
			tr := x.transport(&http.Transport{}, true)
			tr.Policy.AttemptTimeout = 20 * time.Millisecond
			req, _ := http.NewRequest(http.MethodPost, target+"/v1/chat/completions", strings.NewReader(chatBody))
			in.set(req)
			x.roundTrip(tr, req)
			tr.Base.(*http.Transport).CloseIdleConnections()
			if out := x.leaked(in.sent); out != "" {
				t.Fatalf("%s, key in %s: leaks:\n%s", name, in.name, out)
			}
		}
	}
	if len(x.out) < len(steps)*len(entrances) || x.logs.Len() == 0 {
		t.Fatalf("%d outputs, %d bytes logged: the test checks nothing", len(x.out), x.logs.Len())
	}
}
