package llmretry

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// tap is an HTTP server that keeps every byte its clients sent, and answers
// every request with status and body.
type tap struct {
	URL    string
	n      atomic.Int32 // requests handled
	status atomic.Int32 // the status of its answers
	mu     sync.Mutex   // guards wire
	wire   bytes.Buffer
	last   *http.Request // the last request, its body read (trailers set)
}

func startTap(t *testing.T, status int, body string) *tap {
	t.Helper()
	tp := &tap{}
	tp.status.Store(int32(status))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		tp.mu.Lock()
		tp.last = r
		tp.mu.Unlock()
		tp.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(tp.status.Load()))
		io.WriteString(w, body)
	}))
	srv.Listener = tapListener{srv.Listener, tp}
	srv.Start()
	t.Cleanup(srv.Close)
	tp.URL = srv.URL
	return tp
}

// sent is every byte the server read, ASCII lower-cased.
func (tp *tap) sent() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return strings.ToLower(tp.wire.String())
}

func (tp *tap) lastRequest() *http.Request {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.last
}

type tapListener struct {
	net.Listener
	tp *tap
}

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tapConn{c, l.tp}, nil
}

type tapConn struct {
	net.Conn
	tp *tap
}

func (c tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tp.mu.Lock()
	c.tp.wire.Write(p[:n])
	c.tp.mu.Unlock()
	return n, err
}

// secretForms are the ways leakSecret can be written on the wire, lower-cased.
func secretForms() []string {
	forms := []string{leakSecret, url.QueryEscape(leakSecret), url.PathEscape(leakSecret),
		base64.StdEncoding.EncodeToString([]byte("user:" + leakSecret)),
		base64.StdEncoding.EncodeToString([]byte(leakSecret + ":")),
		base64.StdEncoding.EncodeToString([]byte(leakSecret))}
	for i, f := range forms {
		forms[i] = strings.ToLower(f)
	}
	return forms
}

func holdsSecret(wire string) bool {
	for _, f := range secretForms() {
		if strings.Contains(wire, f) {
			return true
		}
	}
	return false
}

// fallbackEntrances are the ways a request carries its credential, for the
// fallback tests: every one of the leak tests', and those that only a
// request sent on to another host can leak.
func fallbackEntrances(primaryHost string) []entrance {
	q := url.QueryEscape(leakSecret)
	query := func(name, raw string) entrance {
		return entrance{name: name, set: func(r *http.Request) { r.URL.RawQuery = raw }}
	}
	trailer := func(key string) entrance {
		return entrance{name: "trailer " + key, set: func(r *http.Request) {
			r.Trailer = http.Header{key: {leakSecret}}
			r.ContentLength = -1 // chunked, so that trailers are sent
		}}
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+leakSecret) }
	es := leakEntrances()
	es = append(es,
		query("query code (Azure Functions)", "model=x&code="+q),
		query("query Code", "Code="+q+"&stream=false"),
		query("query CODE;", "a=1;CODE="+q+";b=2"),
		query("query jwt", "jwt="+q),
		query("query sig (Azure SAS)", "sv=2024-01-01&sig="+q+"&se=2030"),
		query("query Access_Token", "Access_Token="+q),
		query("query duplicated", "key="+q+"&x=1&key="+q),
		entrance{name: "header X-Functions-Key", set: func(r *http.Request) { r.Header.Set("X-Functions-Key", leakSecret) }},
		entrance{name: "header api-key, two values", set: func(r *http.Request) { r.Header["api-key"] = []string{"a", leakSecret} }},
		entrance{name: "opaque with query", set: func(r *http.Request) {
			r.URL.Opaque, r.URL.RawQuery = "/v1/chat/completions?key="+q, ""
		}},
		entrance{name: "opaque absolute with query", set: func(r *http.Request) {
			r.URL.Opaque, r.URL.RawQuery = "//"+primaryHost+"/v1/chat/completions?code="+q, "stream=false"
		}},
		entrance{name: "opaque and RawQuery", set: func(r *http.Request) {
			r.URL.Opaque, r.URL.RawQuery = "/v1/chat/completions?a=1", "api_key="+q
		}},
		trailer("X-Api-Key"), trailer("authorization"), trailer("x-goog-api-key"),
		entrance{name: "Referer holding the query key", set: func(r *http.Request) {
			r.URL.RawQuery = "key=" + q
			r.Header.Set("Referer", "https://app.example/chat?key="+q)
		}},
		entrance{name: "a query value holding the key", set: func(r *http.Request) {
			bearer(r)
			r.URL.RawQuery = "callback=" + url.QueryEscape("https://app.example/?token="+leakSecret) + "&stream=false"
		}},
		entrance{name: "a custom header holding the key", set: func(r *http.Request) {
			bearer(r)
			r.Header.Set("X-Forwarded-For-Key-Holder", "a, "+leakSecret)
			r.Header.Set("X-Upstream", "Bearer "+leakSecret)
		}},
	)
	return es
}

// TestFallbackNeverForwardsCredentials: whatever way the request carries its
// credential, and whatever the target's URL looks like, the host a request
// falls back to never sees the credential: not in a header, a trailer, the
// request line, or anywhere else on the wire (the body is the caller's).
func TestFallbackNeverForwardsCredentials(t *testing.T) {
	t.Parallel()
	targets := []struct {
		name string
		fb   func(url string) Target
		path string // where the fallback's request goes
	}{
		{"base URL with a path", func(u string) Target { return Target{BaseURL: u + "/openai/v1", StripPrefix: "/v1"} }, "/openai/v1/chat/completions"},
		{"base URL with a query", func(u string) Target { return Target{BaseURL: u + "/x?api-version=2024-10-21"} }, "/x/v1/chat/completions"},
		{"base URL and model", func(u string) Target { return Target{BaseURL: u, Model: "other"} }, "/v1/chat/completions"},
		{"base URL with its own credential", func(u string) Target {
			return Target{BaseURL: u + "/v1", StripPrefix: "/v1", Header: http.Header{"Authorization": {"Bearer sk-backup-0000000002"}}}
		}, "/v1/chat/completions"},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			tr, _, _ := setup(t, nil)
			primary := startTap(t, 503, `{"error":{"message":"overloaded","type":"overloaded_error"}}`)
			host := strings.TrimPrefix(primary.URL, "http://")
			for _, in := range fallbackEntrances(host) {
				fb := startTap(t, 200, llmretrytest.Completion)
				pol := genericPolicy()
				pol.Fallbacks = []Target{tg.fb(fb.URL)}
				tr.Policy = pol
				req, _ := http.NewRequest(http.MethodPost, primary.URL+"/v1/chat/completions", strings.NewReader(chatBody))
				in.set(req)
				before := primary.n.Load()
				resp, _, err := do(t, tr, req)
				if err != nil {
					t.Fatalf("%s: %v", in.name, err)
				}
				if primary.n.Load() != before+1 || fb.n.Load() != 1 || resp.StatusCode != 200 {
					t.Fatalf("%s: %d attempts on the primary, %d on the fallback, status %d", in.name, primary.n.Load()-before, fb.n.Load(), resp.StatusCode)
				}
				if !holdsSecret(primary.sent()) {
					t.Fatalf("%s: the primary never saw the secret: the test checks nothing", in.name)
				}
				if wire := fb.sent(); holdsSecret(wire) {
					t.Errorf("%s: the fallback host saw the secret:\n%s", in.name, wire)
				}
				if got := fb.lastRequest().URL.Path; got != tg.path {
					t.Errorf("%s: the fallback got path %s, want %s", in.name, got, tg.path)
				}
			}
		})
	}
}

// TestFallbackQueryAsSent: the fallback's query is the request's byte for
// byte (order, escapes, ";" in a value, a parameter without "="), less its
// credentials; a BaseURL's own parameters come first and win.
func TestFallbackQueryAsSent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, query, base, want string
	}{
		{"as sent", "api-version=2024-10-21&filter=a;b&flag", "", "api-version=2024-10-21&filter=a;b&flag"},
		{"escapes and order kept", "z=%41%2b&a=b+c&&e=", "", "z=%41%2b&a=b+c&&e="},
		{"credentials removed", "key=k1234567890&api-version=1&Code=c1234567890&filter=a;b&flag&sig=s1234567890", "", "api-version=1&filter=a;b&flag"},
		{"a credential after ';'", "filter=a;key=k1234567890&flag", "", "filter=a&flag"},
		{"a credential before ';'", "a=1&key=k1234567890;b=2", "", "a=1&b=2"},
		{"the base's parameters first, and theirs win", "api-version=1&filter=a;b&flag", "api-version=2&x=%2F", "api-version=2&x=%2F&filter=a;b&flag"},
		{"the base's own credential kept", "code=c1234567890&flag", "code=target-own-key", "code=target-own-key&flag"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, "https://a.example/v1/chat?"+tt.query, strings.NewReader(chatBody))
			base := "https://b.example/openai/v1"
			if tt.base != "" {
				base += "?" + tt.base
			}
			r, _, err := fallbackRequest(req, nil, 0, &Target{BaseURL: base, StripPrefix: "/v1"})
			if err != nil {
				t.Fatal(err)
			}
			if r.URL.RawQuery != tt.want || r.URL.Path != "/openai/v1/chat" {
				t.Errorf("sent %s?%s, want /openai/v1/chat?%s", r.URL.Path, r.URL.RawQuery, tt.want)
			}
			if req.URL.RawQuery != tt.query {
				t.Error("the caller's request was modified")
			}
		})
	}
}

// TestFallbackPathAsSent: the path after StripPrefix is kept as written
// (an escaped "/" stays one), an opaque URL is read as the path and query it
// stands for, and a BaseURL's userinfo is the target's own credential.
func TestFallbackPathAsSent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, url, opaque, base, strip, want string
	}{
		{"an escaped slash kept", "https://a.example/v1/files/a%2Fb", "", "https://b.example/openai/v1", "/v1", "https://b.example/openai/v1/files/a%2Fb"},
		{"opaque", "https://a.example/", "/v1/chat?x=1", "https://b.example/o", "/v1", "https://b.example/o/chat?x=1"},
		{"opaque absolute", "https://a.example/", "//a.example/v1/chat", "https://b.example/o/", "/v1", "https://b.example/o/chat"},
		{"the base's userinfo kept", "https://u:p@a.example/v1/chat", "", "https://me:pw@b.example", "", "https://me:pw@b.example/v1/chat"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			req.URL.Opaque = tt.opaque
			r, _, err := fallbackRequest(req, nil, 0, &Target{BaseURL: tt.base, StripPrefix: tt.strip})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.URL.String(); got != tt.want {
				t.Errorf("sent to %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("StripPrefix matches whole segments", func(t *testing.T) {
		t.Parallel()
		for path, fits := range map[string]bool{"/v1": true, "/v1/chat": true, "/v1beta/models": false, "/v2/chat": false} {
			req, _ := http.NewRequest(http.MethodGet, "https://a.example"+path, nil)
			if _, _, err := fallbackRequest(req, nil, 0, &Target{BaseURL: "https://b.example/o", StripPrefix: "/v1"}); (err == nil) != fits {
				t.Errorf("%s: err = %v", path, err)
			}
		}
	})
	t.Run("Header replaces a header in any spelling", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, "https://a.example/v1/chat", nil)
		req.Header["authorization"] = []string{"Bearer old-key-00000001"}
		req.Header["x-tenant"] = []string{"t1"}
		r, _, err := fallbackRequest(req, nil, 0, &Target{Model: "", Header: http.Header{"Authorization": {"Bearer new"}, "X-Tenant": nil}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Header) != 1 || r.Header.Get("Authorization") != "Bearer new" {
			t.Errorf("headers %v", r.Header)
		}
	})
	t.Run("a path that holds the credential cannot go", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, "https://a.example/v1/keys/"+url.PathEscape(leakSecret)+"/chat", nil)
		req.Header.Set("Authorization", "Bearer "+leakSecret)
		if _, _, err := fallbackRequest(req, nil, 0, &Target{BaseURL: "https://b.example"}); err != errSkipTarget {
			t.Errorf("err = %v, want errSkipTarget", err)
		}
	})
}

const overloadedBody = `{"error":{"message":"overloaded","type":"overloaded_error"}}`

// closeCounter is a Base that counts the response bodies it gave and those
// closed.
type closeCounter struct {
	next          http.RoundTripper
	given, closed atomic.Int32
}

func (c *closeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		c.given.Add(1)
		resp.Body = &countedBody{resp.Body, c}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	c *closeCounter
}

func (b *countedBody) Close() error { b.c.closed.Add(1); return b.ReadCloser.Close() }

// TestFallbackPassesOverPacedTargets: a fallback whose configured pace
// cannot let the request go before its deadline is passed over for the next
// one; when none can go, the attempt's own decision stands and its answer
// reaches the caller intact, not a bare ErrDeadline.
func TestFallbackPassesOverPacedTargets(t *testing.T) {
	t.Parallel()
	limited := func(name string) *Policy {
		return &Policy{Name: name, Limits: Limits{RequestsPerMinute: 1, RequestBurst: 1}}
	}
	for _, tt := range []struct {
		name         string
		used         string // the targets whose one request a minute is taken
		maxInFlight  int
		wantTrail    string
		wantB, wantC int32
		wantStatus   int
	}{
		{"B paced past the deadline, C free: C answers", "b", 0, "fallback@ success@c", 0, 1, 200},
		{"B and C paced past the deadline: the primary's answer", "bc", 0, "retries_exhausted@", 0, 0, 503},
		{"the same, the primary with MaxInFlight", "bc", 1, "retries_exhausted@", 0, 0, 503},
		{"B free: B answers", "c", 1, "fallback@ success@b", 1, 0, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, _, ft := setup(t, nil)
			cc := &closeCounter{next: tr.Base}
			tr.Base = cc
			primary := startTap(t, 503, overloadedBody)
			b, c := startTap(t, 200, llmretrytest.Completion), startTap(t, 200, llmretrytest.Completion)
			pb, pc := limited("b"), limited("c")
			pol := genericPolicy()
			pol.Limits.MaxInFlight = tt.maxInFlight
			pol.Fallbacks = []Target{{Name: "b", BaseURL: b.URL, Policy: pb}, {Name: "c", BaseURL: c.URL, Policy: pc}}
			tr.Policy = pol
			var at attempts
			tr.Observer = onAttempt(at.hook)
			for _, u := range []struct {
				name string
				url  string
				pol  *Policy
			}{{"b", b.URL, pb}, {"c", c.URL, pc}} {
				if strings.Contains(tt.used, u.name) {
					req, _ := http.NewRequestWithContext(WithPolicy(bg(), u.pol), http.MethodPost, u.url+"/v1/chat/completions", strings.NewReader(chatBody))
					if _, _, err := do(t, tr, req); err != nil {
						t.Fatal(err)
					}
				}
			}
			b.n.Store(0)
			c.n.Store(0)
			at = attempts{}
			ctx, cancel := timeoutCtx(30 * time.Second) // short of the 1m0.6s a used 1/min key needs, long enough for a loaded machine
			defer cancel()
			req, _ := http.NewRequestWithContext(WithMaxRetries(ctx, 0), http.MethodPost, primary.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			resp, body, err := do(t, tr, req)
			if err != nil {
				t.Fatalf("err = %v, want an answer", err)
			}
			if trail := at.trail(); resp.StatusCode != tt.wantStatus || trail != tt.wantTrail {
				t.Errorf("status %d after %s, want %d after %s", resp.StatusCode, trail, tt.wantStatus, tt.wantTrail)
			}
			if tt.wantStatus == 503 && string(body) != overloadedBody {
				t.Errorf("the primary's answer reached the caller as %q", body)
			}
			if b.n.Load() != tt.wantB || c.n.Load() != tt.wantC {
				t.Errorf("b got %d requests, c %d; want %d, %d", b.n.Load(), c.n.Load(), tt.wantB, tt.wantC)
			}
			if w := ft.Waits(); len(w) != 0 {
				t.Errorf("waited %v", w)
			}
			if cc.given.Load() != cc.closed.Load() {
				t.Errorf("%d bodies given, %d closed", cc.given.Load(), cc.closed.Load())
			}
			// The primary's in-flight slot is free: the next request goes.
			req, _ = http.NewRequestWithContext(WithoutFallback(ctx), http.MethodPost, primary.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			if _, _, err := do(t, tr, req); err != nil {
				t.Fatal(err)
			}
			if p := pacerOf(tr, pol, req); p.inflight.held() != 0 {
				t.Errorf("the primary's key holds %d slots", p.inflight.held())
			}
		})
	}
}

// TestFallbackCancelledWhilePaced: the request's context ends during each
// pacing wait of the fallback path: the request ends with the context's
// error, no target is sent anything after it, and every answer it got is
// closed.
func TestFallbackCancelledWhilePaced(t *testing.T) {
	t.Parallel()
	perMinute := func(name string, n float64) *Policy {
		return &Policy{Name: name, Limits: Limits{RequestsPerMinute: n, RequestBurst: 1}}
	}
	for _, tt := range []struct {
		name         string
		pausePrimary bool          // a 429 with a 30 s hint has paused the primary (FallbackOnRateLimit)
		deadline     time.Duration // 0: none
		wantTrail    string
	}{
		{"in the first fallback's pacing wait", false, 0, "context_done@"},
		{"in the second's, the first passed over", false, 30 * time.Second, "context_done@"},
		{"in the fallback's wait that passes the paused primary over", true, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, _, _ := setup(t, nil)
			cc := &closeCounter{next: tr.Base}
			tr.Base = cc
			primary := startTap(t, 503, overloadedBody)
			b, c := startTap(t, 200, llmretrytest.Completion), startTap(t, 200, llmretrytest.Completion)
			pb, pc := perMinute("b", 1), perMinute("c", 60) // c: a second's wait
			pol := genericPolicy()
			pol.FallbackOnRateLimit = true
			pol.Fallbacks = []Target{{Name: "b", BaseURL: b.URL, Policy: pb}, {Name: "c", BaseURL: c.URL, Policy: pc}}
			tr.Policy = pol
			for _, u := range []struct {
				url string
				pol *Policy
			}{{b.URL, pb}, {c.URL, pc}} { // take b's and c's one request
				req, _ := http.NewRequestWithContext(WithPolicy(bg(), u.pol), http.MethodPost, u.url+"/v1/chat/completions", strings.NewReader(chatBody))
				if _, _, err := do(t, tr, req); err != nil {
					t.Fatal(err)
				}
			}
			if tt.pausePrimary {
				primary.status.Store(429)
				req, _ := http.NewRequestWithContext(WithoutFallback(WithMaxRetries(bg(), 0)), http.MethodPost, primary.URL+"/v1/chat/completions", strings.NewReader(chatBody))
				resp, err := tr.RoundTrip(req) // no Retry-After: the fake primary gives none; pause the key by hand
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				pacerOf(tr, pol, req).pause(bg(), tr.clock(), 30*time.Second)
			}
			sentB, sentC, sentA := b.n.Load(), c.n.Load(), primary.n.Load()
			ctx, cancel := context.WithCancel(bg())
			defer cancel()
			if tt.deadline > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			var at attempts
			tr.Observer = onAttempt(at.hook)
			tr.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() } // every wait is cut short, the limiter's too (it shares tr's seams)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, primary.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if trail := at.trail(); trail != tt.wantTrail {
				t.Errorf("attempts %q, want %q", trail, tt.wantTrail)
			}
			wantA := sentA + 1
			if tt.pausePrimary {
				wantA = sentA // passed over at once
			}
			if b.n.Load() != sentB || c.n.Load() != sentC || primary.n.Load() != wantA {
				t.Errorf("requests after the cancellation: a %d, b %d, c %d", primary.n.Load()-sentA, b.n.Load()-sentB, c.n.Load()-sentC)
			}
			if cc.given.Load() != cc.closed.Load() {
				t.Errorf("%d bodies given, %d closed", cc.given.Load(), cc.closed.Load())
			}
		})
	}
}

// TestFallbackOddTargets: targets that share the request's key, whose host
// refuses connections, or that are all paced; a held answer that is a
// stream.
func TestFallbackOddTargets(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	t.Run("a target on the request's own key and in-flight slot", func(t *testing.T) {
		t.Parallel()
		pol := gptGobPolicy()
		pol.Limits.MaxInFlight = 1
		pol.Fallbacks = []Target{{Model: "gob-small", Policy: pol}} // the same policy, host and credential: the same key
		tr, srv, _ := setup(t, pol)
		srv.EchoModel()
		srv.EnqueueModel("gob-large", gob.Overloaded(0))
		ctx, cancel := timeoutCtx(5 * time.Second)
		defer cancel()
		for range 2 {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(largeBody))
			if _, _, err := do(t, tr, req); err != nil {
				t.Fatalf("err = %v: the fallback waited for the slot its own request held", err)
			}
		}
	})
	t.Run("a target whose host refuses connections", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, nil)
		srv.EchoModel()
		pol := gptGobPolicy()
		pol.FallbackOnExhausted = true
		pol.Fallbacks = []Target{{Name: "dead", BaseURL: deadURL(t)}, {Model: "gob-small"}, {Name: "bad", BaseURL: "::not a url"}}
		tr.Policy = pol
		var at attempts
		tr.Observer = onAttempt(at.hook)
		srv.EnqueueModel("gob-large", gob.Overloaded(0))
		resp, body, err := postBody(t, tr, srv.URL, largeBody)
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "gob-small") {
			t.Fatalf("err %v, status %v: %s", err, resp, body)
		}
		if trail := at.trail(); !strings.HasPrefix(trail, "fallback@ retry@dead") || !strings.HasSuffix(trail, "fallback@dead success@gob-small") {
			t.Errorf("attempts %s", trail)
		}
	})
	t.Run("every target paced: the primary's stream, byte for byte", func(t *testing.T) {
		t.Parallel()
		pol := gptGobPolicy()
		small := gptGobPolicy()
		small.Limits = Limits{RequestsPerMinute: 1, RequestBurst: 1}
		pol.Fallbacks = []Target{{Model: "gob-small", Policy: small}}
		tr, srv, _ := setup(t, pol)
		srv.EchoModel()
		used := strings.Replace(largeBody, "gob-large", "gob-small", 1)
		req, _ := http.NewRequestWithContext(WithPolicy(bg(), small), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(used))
		req.Header.Set("Authorization", "Bearer sk-primary-secret-0001")
		if _, _, err := do(t, tr, req); err != nil {
			t.Fatal(err)
		}
		step := gob.StreamError(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable", Code: "horde_unavailable", Message: "busy"}, 0)
		srv.EnqueueModel("gob-large", step)
		ctx, cancel := timeoutCtx(30 * time.Second) // short of the 1m0.6s a used 1/min key needs, long enough for a loaded machine
		defer cancel()
		body := `{"model":"gob-large","messages":[],"stream":true}`
		req, _ = http.NewRequestWithContext(WithMaxRetries(ctx, 0), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-primary-secret-0001")
		resp, got, err := do(t, tr, req)
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, step.Body) {
			t.Errorf("err %v, read %q; want the primary's stream %q", err, got, step.Body)
		}
	})
}

// TestFallbackBodiesReplayed: a body without GetBody, of unknown length, is
// sent byte for byte to every target (with only the model changed where a
// target names one).
func TestFallbackBodiesReplayed(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	srv.EchoModel()
	other := llmretrytest.Start(t)
	other.EchoModel()
	pol := gptGobPolicy()
	pol.Fallbacks = []Target{{Model: "gob-small"}, {Name: "other", BaseURL: other.URL}}
	tr.Policy = pol
	srv.EnqueueModel("gob-large", llmretrytest.Dialect("gptgob").Overloaded(0))
	srv.EnqueueModel("gob-small", llmretrytest.Dialect("gptgob").Overloaded(0))
	body := strings.Replace(largeBody, "Hello", strings.Repeat("héllo ", 5000), 1)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	if _, _, err := do(t, tr, req); err != nil {
		t.Fatal(err)
	}
	sent := append(srv.Requests(), other.Requests()...)
	if len(sent) != 3 {
		t.Fatalf("%d requests", len(sent))
	}
	for _, r := range sent {
		if want := strings.Replace(body, "gob-large", r.Model, 1); r.BodyHash != hash(want) {
			t.Errorf("%s got a body of %d bytes that is not the caller's", r.Model, r.BodyLen)
		}
	}
}

// TestFallbackOnRateLimitPassesOver: with FallbackOnRateLimit, a target the
// server has paused or that its configured pace cannot let go in time is
// passed over without an attempt; when no later target can go, the paused
// one's pause is waited out.
func TestFallbackOnRateLimitPassesOver(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		paused    string // the keys the server has paused (10 s)
		used      string // the keys whose one request a minute is taken
		wantTrail string
		wantWait  bool
	}{
		{"the primary paused: B at once", "a", "", "success@b", false},
		{"the primary and B paused: C at once", "ab", "", "success@c", false},
		{"the primary paced past the deadline: B at once", "", "a", "success@b", false},
		{"the primary paused, B and C paced past the deadline: the primary after its pause", "a", "bc", "success@", true},
		{"the primary overloaded, B paused, C paced past the deadline: B after its pause", "b", "c", "fallback@ success@b", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, _, ft := setup(t, nil)
			taps := map[string]*tap{"a": startTap(t, 503, overloadedBody), "b": startTap(t, 200, llmretrytest.Completion), "c": startTap(t, 200, llmretrytest.Completion)}
			if tt.wantWait && tt.paused == "a" {
				taps["a"].status.Store(200)
			}
			pols := map[string]*Policy{}
			for _, n := range []string{"a", "b", "c"} {
				pols[n] = &Policy{Name: n}
				if strings.Contains(tt.used, n) {
					pols[n].Limits = Limits{RequestsPerMinute: 1, RequestBurst: 1}
				}
			}
			pols["a"].FallbackOnRateLimit = true
			pols["a"].Fallbacks = []Target{{Name: "b", BaseURL: taps["b"].URL, Policy: pols["b"]}, {Name: "c", BaseURL: taps["c"].URL, Policy: pols["c"]}}
			tr.Policy = pols["a"]
			for n, tp := range taps {
				req, _ := http.NewRequestWithContext(WithoutFallback(WithPolicy(bg(), pols[n])), http.MethodPost, tp.URL+"/v1/chat/completions", strings.NewReader(chatBody))
				p := pacerOf(tr, pols[n], req)
				if strings.Contains(tt.used, n) {
					if err := p.acquire(bg(), 1, tr.clock()); err != nil {
						t.Fatal(err)
					}
				}
				if strings.Contains(tt.paused, n) {
					p.pause(bg(), tr.clock(), 10*time.Second)
				}
				tp.n.Store(0)
			}
			var at attempts
			tr.Observer = onAttempt(at.hook)
			ctx, cancel := timeoutCtx(30 * time.Second) // past the pauses, short of the 1m0.6s a used key needs
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, taps["a"].URL+"/v1/chat/completions", strings.NewReader(chatBody))
			resp, _, err := do(t, tr, req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("err %v", err)
			}
			if trail := at.trail(); trail != tt.wantTrail {
				t.Errorf("attempts %s, want %s", trail, tt.wantTrail)
			}
			if w := ft.Waits(); (len(w) > 0) != tt.wantWait {
				t.Errorf("waited %v", w)
			}
		})
	}
}

// TestFallbackConcurrent: many requests at once, their targets capped in
// flight, rate limited, overloaded and paused: every request gets an answer,
// every body is closed, and every in-flight slot is given back.
func TestFallbackConcurrent(t *testing.T) {
	t.Parallel()
	gob := llmretrytest.Dialect("gptgob")
	tr, srv, _ := setup(t, nil)
	srv.EchoModel()
	cc := &closeCounter{next: tr.Base}
	tr.Base = cc
	small := gptGobPolicy()
	small.Limits = Limits{MaxInFlight: 1, RequestsPerMinute: 6000, RequestBurst: 2}
	pol := gptGobPolicy()
	pol.Limits.MaxInFlight = 2
	pol.FallbackOnRateLimit, pol.FallbackOnExhausted = true, true
	pol.Fallbacks = []Target{{Model: "gob-small", Policy: small}, {Model: "gob-tiny", Policy: pol}}
	tr.Policy = pol
	var n atomic.Int32
	srv.Respond(func(r llmretrytest.Request) llmretrytest.Step {
		switch i := n.Add(1); {
		case r.Model == "gob-large" && i%3 == 0:
			return gob.RateLimit(1)
		case r.Model == "gob-large" && i%3 == 1:
			return gob.Overloaded(0)
		case r.Model == "gob-small" && i%2 == 0:
			return gob.Overloaded(0)
		}
		return llmretrytest.Step{}
	})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := timeoutCtx(10 * time.Second)
			defer cancel()
			if i%4 == 0 {
				ctx = WithMaxRetries(ctx, 0)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(largeBody))
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if cc.given.Load() != cc.closed.Load() {
		t.Errorf("%d bodies given, %d closed", cc.given.Load(), cc.closed.Load())
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	for _, p := range []*Policy{pol, small} {
		if p := pacerOf(tr, p, req); p.inflight.held() != 0 {
			t.Errorf("%s: %d slots held after every request ended", p.key, p.inflight.held())
		}
	}
}

// failingLimiter is a Limiter whose Wait always fails.
type failingLimiter struct{}

func (failingLimiter) Wait(context.Context, string, Pace, int) error {
	return errors.New("limiter down")
}
func (failingLimiter) Pause(context.Context, string, time.Time) error { return nil }

func TestFallbackTargetLimiterFails(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	srv.EchoModel()
	broken := gptGobPolicy()
	broken.Limits = Limits{RequestsPerMinute: 60, Limiter: failingLimiter{}}
	pol := gptGobPolicy()
	pol.Fallbacks = []Target{{Model: "gob-small", Policy: broken}, {Model: "gob-tiny"}}
	tr.Policy = pol
	var at attempts
	tr.Observer = onAttempt(at.hook)
	srv.EnqueueModel("gob-large", llmretrytest.Dialect("gptgob").Overloaded(0))
	resp, _, err := postBody(t, tr, srv.URL, largeBody)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("err = %v", err)
	}
	if trail := at.trail(); trail != "fallback@ success@gob-tiny" {
		t.Errorf("attempts %s", trail)
	}
}

// FuzzFallbackQuery: whatever the request's query, the fallback's holds no
// parameter named like a secret's nor the request's credential, and keeps
// every other parameter as written, in order.
func FuzzFallbackQuery(f *testing.F) {
	for _, s := range []string{"api-version=2024-10-21&filter=a;b&flag", "key=k&x=1", "a=1&key=k;b=2", "%6Bey=v&&e=", ";;&", "code", "x=sk-fuzz-secret-0001"} {
		f.Add(s)
	}
	params := func(raw string) []string {
		var ps []string
		for rest := raw; ; {
			p, after := nextParam(rest, "&;")
			ps = append(ps, p)
			if len(p) == len(rest) {
				return ps
			}
			rest = after
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := http.NewRequest(http.MethodPost, "https://a.example/v1/chat", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = raw
		req.Header.Set("Authorization", "Bearer sk-fuzz-secret-0001")
		r, _, err := fallbackRequest(req, nil, 0, &Target{BaseURL: "https://b.example/o", StripPrefix: "/v1"})
		if err != nil {
			t.Fatal(err)
		}
		s := requestSecrets(req)
		var want []string
		for _, p := range params(raw) {
			name, _, _ := strings.Cut(p, "=")
			if !isSecretParam(name) && !s.holds(p) {
				want = append(want, p)
			}
		}
		got := params(r.URL.RawQuery)
		if r.URL.RawQuery == "" && (len(want) == 0 || len(want) == 1 && want[0] == "") {
			return
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("query %q sent as %q: params %q, want %q", raw, r.URL.RawQuery, got, want)
		}
		if len(want) == len(params(raw)) && r.URL.RawQuery != raw {
			t.Errorf("query %q with no secret sent as %q", raw, r.URL.RawQuery)
		}
	})
}

// TestFallbackOnRateLimitQueuedForSlot: a request queued for the primary's
// in-flight slot when the server pauses the key passes the pause over for
// the fallback once it gets the slot, instead of waiting it out.
func TestFallbackOnRateLimitQueuedForSlot(t *testing.T) {
	t.Parallel()
	pol := gptGobPolicy()
	pol.Limits.MaxInFlight = 1
	pol.FallbackOnRateLimit = true
	pol.Fallbacks = []Target{{Model: "gob-small"}}
	tr, srv, ft := setup(t, pol)
	srv.EchoModel()
	var at attempts
	tr.Observer = onAttempt(at.hook)
	held, err := tr.RoundTrip(fbRequest(t, srv.URL, largeBody))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := do(t, tr, fbRequest(t, srv.URL, largeBody))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it queue for the slot (the test holds either way)
	pacerOf(tr, pol, fbRequest(t, srv.URL, largeBody)).pause(bg(), tr.clock(), 30*time.Second)
	held.Body.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w := ft.Waits(); len(w) != 0 {
		t.Errorf("waited %v", w)
	}
	if trail := at.trail(); trail != "success@ success@gob-small" {
		t.Errorf("attempts %s", trail)
	}
}

func fbRequest(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
