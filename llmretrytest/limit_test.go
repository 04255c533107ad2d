package llmretrytest

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the server's limit.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// base is a whole second, so windows of a second start on it.
var base = time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)

func limited(t *testing.T, spec LimitSpec) (*Server, *fakeClock) {
	t.Helper()
	c := &fakeClock{t: base}
	spec.Clock = c.now
	s := Start(t)
	s.SetLimit(spec)
	return s, c
}

func send(t *testing.T, s *Server, cred, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/chat/completions", strings.NewReader(body))
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestBucketIsExact(t *testing.T) {
	t.Parallel()
	s, c := limited(t, LimitSpec{Quotas: []Quota{Bucket(Requests, 4, 2)}, headers: openAIHeaders,
		hints: hintRetryAfter | hintRetryAfterMs})
	for i, want := range []struct {
		advance   time.Duration
		status    int
		remaining string
		reset     string
		retryMs   string
		retry     string
	}{
		{0, 200, "1", "250ms", "", ""},
		{0, 200, "0", "500ms", "", ""},
		{0, 429, "0", "500ms", "250", "1"}, // 4/s: the next token in 250 ms
		{249 * time.Millisecond, 429, "0", "251ms", "1", "1"},
		{time.Millisecond, 200, "0", "500ms", "", ""},
		{time.Second, 200, "1", "250ms", "", ""}, // full again, one taken
	} {
		c.add(want.advance)
		resp := send(t, s, "k", `{}`)
		h := resp.Header
		if resp.StatusCode != want.status || h.Get("X-Ratelimit-Remaining-Requests") != want.remaining ||
			h.Get("X-Ratelimit-Reset-Requests") != want.reset || h.Get("Retry-After-Ms") != want.retryMs ||
			h.Get("Retry-After") != want.retry || h.Get("X-Ratelimit-Limit-Requests") != "2" {
			t.Errorf("request %d: %d remaining %q reset %q retry-after-ms %q retry-after %q; want %+v", i, resp.StatusCode,
				h.Get("X-Ratelimit-Remaining-Requests"), h.Get("X-Ratelimit-Reset-Requests"), h.Get("Retry-After-Ms"), h.Get("Retry-After"), want)
		}
	}
	if a, r := s.LimitCounts(); a != 4 || r != 2 {
		t.Errorf("LimitCounts = %d admitted, %d refused; want 4, 2", a, r)
	}
}

func TestWindowIsExact(t *testing.T) {
	t.Parallel()
	s, c := limited(t, LimitSpec{Quotas: []Quota{Window(Requests, 3, time.Second)}, headers: xRateLimitHeaders,
		reset: resetUnixMillis, hints: hintRetryAfterMs})
	c.add(400 * time.Millisecond) // 0.6 s left in the window
	end := strconv.FormatInt(base.Add(time.Second).UnixMilli(), 10)
	for i := 0; i < 3; i++ {
		resp := send(t, s, "k", `{}`)
		if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining") != strconv.Itoa(2-i) || resp.Header.Get("X-Ratelimit-Reset") != end {
			t.Errorf("request %d: %d %v", i, resp.StatusCode, resp.Header)
		}
	}
	resp := send(t, s, "k", `{}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After-Ms") != "600" || resp.Header.Get("Retry-After") != "" {
		t.Errorf("4th: %d retry-after-ms %q retry-after %q; want 429 with 600 only", resp.StatusCode,
			resp.Header.Get("Retry-After-Ms"), resp.Header.Get("Retry-After"))
	}
	c.add(599 * time.Millisecond)
	if resp := send(t, s, "k", `{}`); resp.StatusCode != 429 {
		t.Errorf("1 ms before the window ends: %d, want 429", resp.StatusCode)
	}
	c.add(time.Millisecond)
	resp = send(t, s, "k", `{}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining") != "2" ||
		resp.Header.Get("X-Ratelimit-Reset") != strconv.FormatInt(base.Add(2*time.Second).UnixMilli(), 10) {
		t.Errorf("new window: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestCredentialsHaveTheirOwnQuotas(t *testing.T) {
	t.Parallel()
	s, _ := limited(t, LimitSpec{Quotas: []Quota{Bucket(Requests, 1, 1)}})
	got := []int{send(t, s, "a", `{}`).StatusCode, send(t, s, "b", `{}`).StatusCode, send(t, s, "a", `{}`).StatusCode, send(t, s, "", `{}`).StatusCode}
	if want := []int{200, 200, 429, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

func chat(prompt string, maxTokens int) string {
	return `{"model":"m","messages":[{"role":"user","content":"` + prompt + `"}],"max_tokens":` + strconv.Itoa(maxTokens) + `}`
}

func TestTokenQuotaCountsPromptAndMaxTokens(t *testing.T) {
	t.Parallel()
	// 100 tokens/s, bucket of 100. "abcdefgh" is 2 tokens, the message 4 more.
	s, c := limited(t, LimitSpec{Quotas: []Quota{Bucket(Tokens, 100, 100)}, headers: openAIHeaders, hints: hintRetryAfterMs})
	body := chat("abcdefgh", 54) // 60 tokens
	if in, out := RequestTokens([]byte(body)); in != 6 || out != 54 {
		t.Fatalf("RequestTokens = %d, %d, want 6, 54", in, out)
	}
	resp := send(t, s, "k", body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining-Tokens") != "40" || resp.Header.Get("X-Ratelimit-Reset-Tokens") != "600ms" {
		t.Errorf("first: %d %v", resp.StatusCode, resp.Header)
	}
	resp = send(t, s, "k", body) // needs 20 more tokens: 200 ms
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After-Ms") != "200" {
		t.Errorf("second: %d retry-after-ms %q, want 429, 200", resp.StatusCode, resp.Header.Get("Retry-After-Ms"))
	}
	if resp := send(t, s, "k", chat("", 36)); resp.StatusCode != 200 { // 40 tokens fit
		t.Errorf("a smaller request that fits: %d, want 200", resp.StatusCode)
	}
	c.add(600 * time.Millisecond)
	if resp := send(t, s, "k", body); resp.StatusCode != 200 {
		t.Errorf("after the refill: %d, want 200", resp.StatusCode)
	}
	// Larger than the bucket: refused, and no wait would help.
	resp = send(t, s, "k", chat("", 500))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After-Ms") != "" {
		t.Errorf("too large: %d retry-after-ms %q, want 429 without a hint", resp.StatusCode, resp.Header.Get("Retry-After-Ms"))
	}
}

func TestRequestTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want cost
	}{
		{``, cost{in: 1}},
		{`not json at all`, cost{in: 4}},
		{chat("", 0), cost{in: 4}},
		{chat("abcd", 10), cost{in: 5, out: 10}},
		{`{"messages":[{"content":"a"},{"content":"b"}],"max_completion_tokens":7}`, cost{in: 10, out: 7}},
		{`{"system":"abcdefgh","messages":[{"content":[{"type":"text","text":"abcd"},{"type":"image_url"}]}],"max_tokens":3}`,
			cost{in: 2 + 4 + 1 + 765, out: 3}},
	} {
		if in, out := RequestTokens([]byte(tc.body)); in != tc.want.in || out != tc.want.out {
			t.Errorf("RequestTokens(%s) = %d, %d, want %d, %d", tc.body, in, out, tc.want.in, tc.want.out)
		}
	}
	if got := (cost{}).total(); got != 1 {
		t.Errorf("Total of nothing = %d, want 1", got)
	}
}

func TestResetFormats(t *testing.T) {
	t.Parallel()
	now := base.Add(250 * time.Millisecond)
	at := now.Add(1500*time.Millisecond + 300*time.Microsecond) // 19:00:01.750300
	for _, tc := range []struct {
		f    resetFormat
		want string
	}{
		{resetDuration, "1.501s"},
		{resetSeconds, "1.5003"},
		{resetDeltaSeconds, "2"},
		{resetUnix, strconv.FormatInt(base.Unix()+2, 10)},
		{resetUnixMillis, strconv.FormatInt(base.UnixMilli()+1751, 10)},
		{resetRFC3339, "2026-12-01T19:00:02Z"},
	} {
		if got := formatReset(tc.f, at, now); got != tc.want {
			t.Errorf("format %d: %q, want %q", tc.f, got, tc.want)
		}
	}
	if got := formatReset(resetDuration, now.Add(6*time.Minute), now); got != "6m0s" {
		t.Errorf("6 minutes: %q, want OpenAI's 6m0s", got)
	}
	if got := formatReset(resetUnix, base, now); got != strconv.FormatInt(base.Unix(), 10) {
		t.Errorf("a whole second stays: %q", got)
	}
}

func TestHeaderNames(t *testing.T) {
	t.Parallel()
	quotas := []Quota{Bucket(Requests, 10, 10), Window(Requests, 14400, 24*time.Hour), Window(Tokens, 60000, time.Minute),
		Bucket(InputTokens, 1000, 1000), {Unit: OutputTokens, Limit: 5, Per: time.Second, Silent: true}}
	for _, tc := range []struct {
		h    headerSet
		want []string
	}{
		{noHeaders, nil},
		{openAIHeaders, []string{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests",
			"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"}},
		{xRateLimitHeaders, []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"}},
		{ietfHeaders, []string{"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"}},
		{cerebrasHeaders, []string{"X-Ratelimit-Limit-Requests-Second", "X-Ratelimit-Remaining-Requests-Second", "X-Ratelimit-Reset-Requests-Second",
			"X-Ratelimit-Limit-Requests-Day", "X-Ratelimit-Remaining-Requests-Day", "X-Ratelimit-Reset-Requests-Day",
			"X-Ratelimit-Limit-Tokens-Minute", "X-Ratelimit-Remaining-Tokens-Minute", "X-Ratelimit-Reset-Tokens-Minute"}},
		{anthropicHeaders, []string{"Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset",
			"Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset",
			"Anthropic-Ratelimit-Input-Tokens-Limit", "Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Reset"}},
	} {
		l := &limits{spec: LimitSpec{Quotas: quotas, headers: tc.h}}
		qs := make([]quotaState, len(quotas))
		for i, q := range quotas {
			qs[i].advance(q, base)
			qs[i].tokens = float64(q.Limit)
		}
		h := l.headers(qs, base, false)
		if len(h) != len(tc.want) {
			t.Errorf("headers %d: got %v, want %v", tc.h, h, tc.want)
		}
		for _, name := range tc.want {
			if h.Get(name) == "" {
				t.Errorf("headers %d: %s missing from %v", tc.h, name, h)
			}
		}
		// The first quota wins a shared name.
		if tc.h == openAIHeaders && h.Get("X-Ratelimit-Limit-Requests") != "10" {
			t.Errorf("the first requests quota must be announced: %v", h)
		}
	}
}

func TestOnly429(t *testing.T) {
	t.Parallel()
	s, _ := limited(t, LimitSpec{Quotas: []Quota{Window(Requests, 1, time.Minute)}, headers: xRateLimitHeaders,
		reset: resetUnix, only429: true, hints: hintRetryAfter, Dialect: "cencori"})
	if resp := send(t, s, "k", `{}`); resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit") != "" {
		t.Errorf("admitted answer: %d %v, want 200 without rate-limit headers", resp.StatusCode, resp.Header)
	}
	resp := send(t, s, "k", `{}`)
	if resp.StatusCode != 429 || resp.Header.Get("X-Ratelimit-Remaining") != "0" || resp.Header.Get("Retry-After") != "60" ||
		resp.Header.Get("X-Ratelimit-Reset") != strconv.FormatInt(base.Add(time.Minute).Unix(), 10) {
		t.Errorf("429: %d %v", resp.StatusCode, resp.Header)
	}
}

// waitInBody finds a number of seconds or a duration in a 429 body.
var waitInBody = regexp.MustCompile(`(?i)(retry|again|come back|wait)[^0-9]{0,20}\d|retry_after`)

func TestHintsAreOnlyWhereAsked(t *testing.T) {
	t.Parallel()
	for _, d := range Dialects() {
		quiet := (&limits{spec: LimitSpec{Dialect: d}}).refusal(1500*time.Millisecond, false)
		if quiet.Header.Get("Retry-After") != "" || quiet.Header.Get("Retry-After-Ms") != "" || waitInBody.Match(quiet.Body) {
			t.Errorf("%v: a 429 without hints carries one: %v %s", d, quiet.Header, quiet.Body)
		}
		if quiet.Status != 429 {
			t.Errorf("%v: status %d", d, quiet.Status)
		}
		hinted := (&limits{spec: LimitSpec{Dialect: d, hints: hintRetryAfter | hintRetryAfterMs, bodyHint: true}}).refusal(1500*time.Millisecond, false)
		if hinted.Header.Get("Retry-After") != "2" || hinted.Header.Get("Retry-After-Ms") != "1500" {
			t.Errorf("%v: hints %v, want Retry-After 2 (rounded up) and Retry-After-Ms 1500", d, hinted.Header)
		}
		if (d == "openai" || d == "gptgob" || d == "solidrust") && !waitInBody.Match(hinted.Body) {
			t.Errorf("%v: the body hint must name the wait: %s", d, hinted.Body)
		}
		if d == "gptgob" && !strings.Contains(string(hinted.Body), `"retry_after":2`) {
			t.Errorf("GPT-Gob's body hint missing: %s", hinted.Body)
		}
	}
}

func TestStyles(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, st := range Styles() {
		if seen[string(st)] || st.Source() == "" {
			t.Errorf("style %q: duplicate or without a source", st)
		}
		seen[string(st)] = true
		for _, u := range []Unit{Requests, Tokens} {
			spec := st.Spec(u, 100, 10)
			binding := spec.Quotas[0]
			if binding.Unit != u || binding.Rate() != 100 {
				t.Errorf("%s/%v: binding quota %+v, want %v at 100/s", st, u, binding, u)
			}
			// The binding quota is the tightest of its unit.
			for _, q := range spec.Quotas[1:] {
				if q.Unit == u && q.Rate() < binding.Rate() && q.Per < time.Hour {
					t.Errorf("%s/%v: %+v binds before the binding quota", st, u, q)
				}
			}
		}
	}
	if len(spec(t, "bare").Quotas) != 1 || spec(t, "github").Quotas[0].Limit != 100 || !spec(t, "github").Quotas[0].Window {
		t.Error("bare must be one bucket; github one-second windows of 100")
	}
	if len(Styles()[0].Spec(Requests, 0, 10).Quotas) != 0 {
		t.Error("a rate of 0 must mean no limit")
	}
}

func spec(t *testing.T, name string) LimitSpec {
	return Style(name).Spec(Requests, 100, 10)
}

func TestCerebrasStyle(t *testing.T) {
	t.Parallel()
	st := Style("cerebras")
	sp := st.Spec(Requests, 1, 1)
	c := &fakeClock{t: base.Add(13*time.Hour + 500*time.Millisecond)}
	sp.Clock = c.now
	s := Start(t)
	s.SetLimit(sp)
	resp := send(t, s, "k", `{}`)
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("X-Ratelimit-Limit-Requests-Day") != "14400" || h.Get("X-Ratelimit-Remaining-Requests-Day") != "14399" ||
		h.Get("X-Ratelimit-Reset-Requests-Day") != "57599.5" || h.Get("X-Ratelimit-Reset-Tokens-Minute") != "59.5" ||
		h.Get("X-Ratelimit-Limit-Requests") != "" {
		t.Errorf("first: %d %v", resp.StatusCode, h)
	}
	resp = send(t, s, "k", `{}`) // the silent 1/s bucket is empty
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-Ratelimit-Remaining-Requests-Day") != "14399" {
		t.Errorf("second: %d %v, want a 429 without a hint", resp.StatusCode, resp.Header)
	}
}

func TestAnthropicStyle(t *testing.T) {
	t.Parallel()
	st := Style("anthropic")
	sp := st.Spec(Requests, 2, 1)
	c := &fakeClock{t: base.Add(100 * time.Millisecond)}
	sp.Clock = c.now
	s := Start(t)
	s.SetLimit(sp)
	resp := send(t, s, "k", `{}`)
	if resp.Header.Get("Anthropic-Ratelimit-Requests-Reset") != "2026-12-01T19:00:01Z" || // full at .600, rounded up
		resp.Header.Get("Anthropic-Ratelimit-Output-Tokens-Limit") != "1000000" {
		t.Errorf("first: %v", resp.Header)
	}
	resp = send(t, s, "k", `{}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("second: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSetLimitWithoutQuotasRemovesTheLimit(t *testing.T) {
	t.Parallel()
	s, _ := limited(t, LimitSpec{Quotas: []Quota{Bucket(Requests, 1, 1)}})
	send(t, s, "k", `{}`)
	s.SetLimit(LimitSpec{})
	if resp := send(t, s, "k", `{}`); resp.StatusCode != 200 {
		t.Errorf("after SetLimit(LimitSpec{}): %d", resp.StatusCode)
	}
	if a, r := s.LimitCounts(); a != 0 || r != 0 {
		t.Errorf("counts without a limit: %d %d", a, r)
	}
}

func TestUnknownStylePanics(t *testing.T) {
	t.Parallel()
	for _, f := range []func(){
		func() { Style("nope").Spec(Requests, 1, 1) },
		func() { Style("").Spec(Requests, 0, 1) }, // even when it would remove the limit
		func() { _ = Style("Anthropic").Source() },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "unknown Style") {
					t.Errorf("recovered %v, want a panic naming the unknown style", r)
				}
			}()
			f()
		}()
	}
}

// The inexact styles enforce a bucket and announce a one-second window: a
// 429 says none is left until the next whole second, whatever the bucket
// says, and window-over-bucket's 200s count the window, not the bucket.
func TestInexactStyles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		style            string
		okLimit          string // X-RateLimit-Limit on a 200
		okRemain         string // and its Remaining after 10 admitted
		retryAfter, body string // on the 429
	}{
		{"inexact", "", "", "1", `"retry_after":1`},
		{"window-over-bucket", "100", "90", "1", ""},
	} {
		t.Run(tc.style, func(t *testing.T) {
			t.Parallel()
			sp := Style(tc.style).Spec(Requests, 100, 10)
			c := &fakeClock{t: base.Add(300 * time.Millisecond)}
			sp.Clock = c.now
			s := Start(t)
			s.SetLimit(sp)
			var resp *http.Response
			for i := 0; i < 10; i++ {
				resp = send(t, s, "k", `{}`)
			}
			if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit") != tc.okLimit || resp.Header.Get("X-Ratelimit-Remaining") != tc.okRemain {
				t.Errorf("10th: %d %v", resp.StatusCode, resp.Header)
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/chat/completions", strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer k")
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			h := resp.Header
			// The bucket is empty for 10 ms; the header says the window is
			// spent until 19:00:01, the Retry-After rounds 10 ms up to 1 s.
			if resp.StatusCode != 429 || h.Get("Retry-After") != tc.retryAfter || h.Get("X-Ratelimit-Limit") != "100" ||
				h.Get("X-Ratelimit-Remaining") != "0" || h.Get("X-Ratelimit-Reset") != strconv.FormatInt(base.Unix()+1, 10) ||
				!strings.Contains(string(b), tc.body) {
				t.Errorf("11th: %d %v %s", resp.StatusCode, h, b)
			}
			c.add(10 * time.Millisecond)
			if resp := send(t, s, "k", `{}`); resp.StatusCode != 200 {
				t.Errorf("after 10 ms: %d, want the bucket's refill admitted", resp.StatusCode)
			}
		})
	}
}
