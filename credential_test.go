package llmretry

import (
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keyLoad makes n keys on tr's pacers at now, one request each, answered
// with h; it returns the heap bytes they hold.
func keyLoad(tr *Transport, n int, prefix string, h http.Header, now time.Time) uint64 {
	pol := tr.policyFor(&http.Request{URL: &url.URL{Host: "api.example.com"}}, requestOptions{})
	req := &http.Request{URL: &url.URL{Host: "api.example.com"}, Header: http.Header{}}
	resp := &http.Response{StatusCode: 200, Header: h}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		req.Header.Set("Authorization", "Bearer "+prefix+strconv.Itoa(i))
		p := pacerOf(tr, pol, req)
		p.acquire(bg(), 1, now)
		p.observe(bg(), resp, Verdict{Status: 200}, p.send(bg(), now, 1, false), now)
		p.acquire(bg(), 1, now) // under what was learned, if anything
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(tr)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

// TestPacingStateBounded: a Transport serving ever new API keys forgets the
// idle ones, so its memory follows the keys in use, not all it has seen.
func TestPacingStateBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 keys: skipped in -short mode")
	}
	ft := &fakeTime{now: testNow}
	tr := &Transport{seams: seams{now: ft.Now, sleep: ft.Sleep}}
	const n = 100_000
	learnedHeaders := http.Header{"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {"99"}, "X-Ratelimit-Reset-Requests": {"600ms"}}

	plain := keyLoad(tr, n, "sk-plain-", http.Header{"Content-Type": {"application/json"}}, ft.Now())
	if got := tr.pacers.m.len(); got != n {
		t.Fatalf("%d pacers for %d keys in use", got, n)
	}
	if got := tr.pacers.mem.buckets.len(); got != 0 {
		t.Errorf("%d buckets kept for keys that were never limited, want 0", got)
	}
	// Keys that learned a limit, on another Transport.
	tr2 := &Transport{seams: seams{now: ft.Now, sleep: ft.Sleep}}
	learned := keyLoad(tr2, n, "sk-learned-", learnedHeaders, ft.Now())
	if got := tr2.pacers.mem.buckets.len(); got != n {
		t.Errorf("%d buckets for %d keys paced at a learned limit", got, n)
	}
	t.Logf("bytes per key: %d unlimited, %d with a learned limit (pacer, map entry and buckets; heap delta / %d keys)",
		plain/n, learned/n, n)

	// An hour later, a few new keys: the idle ones are gone.
	ft.Sleep(bg(), time.Hour)
	const late = 10
	keyLoad(tr, late, "sk-late-", nil, ft.Now())
	if got := tr.pacers.m.len(); got != late {
		t.Errorf("%d pacers kept after all but %d keys went idle for an hour", got, late)
	}
	// Many new keys at once: at most twice those in use (plus minSweep).
	keyLoad(tr, n, "sk-new-", nil, ft.Now())
	if got := tr.pacers.m.len(); got > 2*(n+late)+minSweep {
		t.Errorf("%d pacers for %d keys in use, want ≤ %d", got, n+late, 2*(n+late)+minSweep)
	}
	if plain/n > 1024 || learned/n > 2048 {
		t.Errorf("%d and %d bytes a key: far above what was measured", plain/n, learned/n)
	}
}

// TestPacingKeysByQueryCredential: keys sent in the query (Gemini's ?key=)
// get pacing states of their own, as header keys do.
func TestPacingKeysByQueryCredential(t *testing.T) {
	tr := &Transport{}
	pol := geminiPolicy()
	get := func(url string) *pacer {
		req, _ := http.NewRequest(http.MethodPost, url, nil)
		return pacerOf(tr, pol, req)
	}
	const base = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
	a, b := get(base+"?key=AIzaKeyNumberOne1"), get(base+"?alt=sse&key=AIzaKeyNumberTwo2")
	if a == b {
		t.Error("two query keys share one pacing state")
	}
	if again := get(base + "?key=AIzaKeyNumberOne1&alt=sse"); again != a {
		t.Error("the same query key got a second pacing state")
	}
	if anon := get(base + "?alt=sse"); anon == a || anon == b {
		t.Error("a request without a key shares a keyed pacing state")
	}
	for _, p := range []*pacer{a, b} {
		if strings.Contains(p.key, "AIza") {
			t.Errorf("pacing key %q holds the credential", p.key)
		}
	}
	if got := queryCredential("alt=sse;api-key=k1&x=y"); got != "k1" {
		t.Errorf("queryCredential = %q, want k1", got)
	}
	if n := testing.AllocsPerRun(100, func() { queryCredential("alt=sse&key=AIzaKeyNumberOne1") }); n != 0 {
		t.Errorf("queryCredential allocates %v times, want 0", n)
	}
}
