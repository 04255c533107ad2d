package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

func TestDemoRuns(t *testing.T) {
	// A burst no key's 20 requests can exhaust: the server's rate limit then
	// never answers the out-of-quota key, whose requests must all fail
	// without a retry. (A rate-limit 429 on that key is rightly retried: new
	// keys are no longer probed one request at a time.)
	o := options{n: 80, workers: 8, rate: 200, burst: 50, keys: 4, p503: 0.05, p500: 0.03, p429: 0, seed: 1, timeout: 30e9}
	plain := run(o, llmretrytest.Dialect("gptgob"), "plain", func() http.RoundTripper { return &http.Transport{} })
	retry := run(o, llmretrytest.Dialect("gptgob"), "llmretry", func() http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{}, Policy: policyFor(llmretrytest.Dialect("gptgob"))}
	})
	quota := o.n / o.keys // every fourth request uses the key that is out of quota
	if plain.ok+plain.failed != o.n || retry.ok+retry.failed != o.n {
		t.Fatalf("runs did not account for every request: %+v %+v", plain, retry)
	}
	for _, s := range []stats{plain, retry} {
		if s.quotaRequests != quota || s.quotaFailed != quota || s.quotaAttempts != quota {
			t.Errorf("%s: quota key: %d requests, %d failed, %d attempts; want %d each (all fail, none retried)",
				s.name, s.quotaRequests, s.quotaFailed, s.quotaAttempts, quota)
		}
	}
	if retry.ok <= plain.ok {
		t.Errorf("llmretry: %d ok; plain: %d ok. Want more successes with llmretry", retry.ok, plain.ok)
	}
	var out bytes.Buffer
	printTable(&out, plain, retry)
	footer := quotaFooter(o.keys, plain, retry)
	want := fmt.Sprintf("%d of its %d requests failed with the plain client, %d of %d with llmretry.\n"+
		"plain sent them %d times: %d refusals for quota (none retried).\n"+
		"llmretry sent them %d times: %d refusals for quota (none retried).\nOther failures: %d plain, %d llmretry.",
		quota, quota, quota, quota, quota, quota, quota, quota, plain.failed-quota, retry.failed-quota)
	if !strings.Contains(footer, want) {
		t.Errorf("footer:\n%s\nwant it to say:\n%s", footer, want)
	}
	for _, row := range []string{"succeeded", "failed", "attempts", "429s received", "p50 latency", "p99 latency", "wall time"} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("table lacks %q:\n%s", row, out.String())
		}
	}
}

// The footer's sentences are the run's own counts (issue 21, item 16): with
// a burst small enough that the out-of-quota key meets the server's rate
// limit, its attempts are quota refusals (never retried) plus rate-limit
// 429s (retried by llmretry), counted apart, and the sentences say so.
func TestDemoQuotaSentences(t *testing.T) {
	o := options{n: 120, workers: 16, rate: 20, burst: 1, keys: 4, seed: 1, timeout: 30e9}
	plain := run(o, llmretrytest.Dialect("gptgob"), "plain", func() http.RoundTripper { return &http.Transport{} })
	retry := run(o, llmretrytest.Dialect("gptgob"), "llmretry", func() http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{}, Policy: policyFor(llmretrytest.Dialect("gptgob"))}
	})
	for _, s := range []stats{plain, retry} {
		if s.quotaRefused+s.quotaLimited != s.quotaAttempts || s.quotaRefusedRetried > s.quotaRefused || s.quotaLimitedRetried > s.quotaLimited {
			t.Errorf("%s: %+v: the attempts do not add up", s.name, s)
		}
		if s.quotaRefusedRetried != 0 {
			t.Errorf("%s retried %d quota refusals", s.name, s.quotaRefusedRetried)
		}
	}
	if plain.quotaLimitedRetried != 0 || plain.quotaRefused+plain.quotaLimited != plain.quotaRequests {
		t.Errorf("plain: %+v: the plain client retries nothing", plain)
	}
	// A request ends refused for quota unless the key's rate limit refused
	// it until its retries ran out (rare, on a loaded machine): each such
	// request met at least one 429 from the rate limit.
	if retry.quotaRefused > retry.quotaRequests || retry.quotaRequests-retry.quotaRefused > retry.quotaLimited {
		t.Errorf("llmretry: %d refusals for %d requests, %d rate-limit 429s: a request ended neither refused for quota nor rate-limited", retry.quotaRefused, retry.quotaRequests, retry.quotaLimited)
	}
	footer := quotaFooter(o.keys, plain, retry)
	for _, s := range []stats{plain, retry} {
		want := fmt.Sprintf("%s sent them %d times: %s for quota (none retried)", s.name, s.quotaAttempts, count(s.quotaRefused, "refusal", "refusals"))
		if s.quotaLimited > 0 {
			want += fmt.Sprintf(", %s from the key's rate limit (%s)", count(s.quotaLimited, "429", "429s"), retried(s.quotaLimitedRetried, s.quotaLimited))
		}
		if !strings.Contains(footer, want+".\n") {
			t.Errorf("footer:\n%s\nwant it to say:\n%s", footer, want)
		}
	}
	if plain.quotaLimited == 0 {
		t.Log("the plain run met no rate limit on the quota key this time") // the load above makes it all but certain
	}
	for _, tt := range []struct {
		r, n int
		want string
	}{{0, 3, "none retried"}, {1, 1, "retried"}, {3, 3, "all retried"}, {2, 3, "2 retried"}} {
		if got := retried(tt.r, tt.n); got != tt.want {
			t.Errorf("retried(%d, %d) = %q, want %q", tt.r, tt.n, got, tt.want)
		}
	}
}

// The faults are a function of the seed and the request, not of arrival
// order: two runs with the same seed inject the same faults.
func TestDemoFaultsReproducible(t *testing.T) {
	r := llmretrytest.Request{BodyHash: [32]byte{1, 2, 3}, Attempt: 1}
	if a, b := faultRand(1, r).Float64(), faultRand(1, r).Float64(); a != b {
		t.Errorf("the same request drew %v then %v", a, b)
	}
	r2 := r
	r2.Attempt = 2
	if faultRand(1, r).Float64() == faultRand(1, r2).Float64() || faultRand(1, r).Float64() == faultRand(2, r).Float64() {
		t.Error("another attempt or seed drew the same number")
	}
	// No rate limit to meet: the outcome is the faults' alone, the same twice.
	o := options{n: 60, workers: 8, rate: 0, keys: 4, p503: 0.2, p500: 0.1, seed: 7, timeout: 30e9}
	first := run(o, llmretrytest.Dialect("gptgob"), "plain", func() http.RoundTripper { return &http.Transport{} })
	second := run(o, llmretrytest.Dialect("gptgob"), "plain", func() http.RoundTripper { return &http.Transport{} })
	if first.ok != second.ok || first.failed != second.failed {
		t.Errorf("same seed, different outcomes: %d ok then %d", first.ok, second.ok)
	}
}

func TestRealNeedsKeyFromEnvironment(t *testing.T) {
	t.Setenv("LLMRETRY_TEST_EMPTY", "")
	err := runReal(options{baseURL: "http://127.0.0.1:1/v1", model: "m", keyEnv: "LLMRETRY_TEST_EMPTY", n: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "LLMRETRY_TEST_EMPTY") {
		t.Errorf("err = %v, want a message naming the environment variable", err)
	}
}

// TestDemoMetrics runs the llmretry side with metrics and reads them back as
// Prometheus text, printed and served.
func TestDemoMetrics(t *testing.T) {
	o := options{n: 40, workers: 4, rate: 200, burst: 5, keys: 4, p503: 0.2, seed: 1, timeout: 30e9}
	m, err := newMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	if err := m.serve("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	st := run(o, llmretrytest.Dialect("gptgob"), "llmretry", func() http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{}, Policy: policyFor(llmretrytest.Dialect("gptgob")), Observer: m.observer}
	})
	var printed bytes.Buffer
	m.print(&printed)
	resp, err := http.Get("http://" + m.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`llmretry_attempts_total{llmretry_class="ok",llmretry_decision="success",llmretry_policy="gptgob",server_address="127.0.0.1"} ` + fmt.Sprint(st.ok),
		`llmretry_attempts_total{llmretry_class="model_overloaded",llmretry_decision="retry"`,
		`llmretry_attempts_total{llmretry_class="quota_exhausted",llmretry_decision="not_retryable",llmretry_policy="gptgob",server_address="127.0.0.1"} ` + fmt.Sprint(o.n/o.keys),
		`llmretry_retries_total{`,
		`llmretry_request_attempts_count{`,
		`llmretry_wait_duration_seconds_count{llmretry_policy="gptgob",llmretry_wait_kind="pacing"} ` + fmt.Sprint(st.attempts),
		`llmretry_limit_request_rate_per_second{llmretry_key="gptgob:`,
		`llmretry_budget_available{llmretry_policy="gptgob"}`,
		`http_client_request_duration_seconds_count{`,
	} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("printed metrics lack %q:\n%s", want, printed.String())
		}
		if !strings.Contains(string(served), want) {
			t.Errorf("served metrics lack %q", want)
		}
	}
	if strings.Contains(printed.String(), "_bucket{") {
		t.Error("printed metrics have histogram buckets")
	}
	if strings.Contains(string(served), "sk-demo") {
		t.Error("the served metrics hold an API key")
	}
}

func TestDemoMetricsFlag(t *testing.T) {
	o := options{provider: "gptgob", n: 16, workers: 4, rate: 200, burst: 5, keys: 2, seed: 1, timeout: 30e9, metrics: "127.0.0.1:0"}
	waited := false
	o.wait = func() error { waited = true; return nil }
	if err := withMetrics(o, func(obs *llmretry.Observer) error {
		if obs == nil {
			t.Error("no Observer with -metrics")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !waited {
		t.Error("serving the metrics did not wait")
	}
	o.metrics = "256.0.0.1:bad"
	if err := withMetrics(o, func(*llmretry.Observer) error { return nil }); err == nil || !strings.Contains(err.Error(), "-metrics") {
		t.Errorf("bad address: err = %v, want one naming -metrics", err)
	}
}

func TestFallbackSection(t *testing.T) {
	o := options{nFallback: 80, workers: 8, pOverload: 0.4, seed: 1, timeout: 30e9}
	plain := fallbackRun(o, "plain", func() http.RoundTripper { return &http.Transport{} })
	fb := fallbackRun(o, "fallback", func() http.RoundTripper {
		p := llmretry.Provider("gptgob")
		p.Fallbacks = []llmretry.Target{{Model: spareModel}}
		return &llmretry.Transport{Base: &http.Transport{}, Policy: p}
	})
	if plain.ok+plain.failed != o.nFallback || plain.failed == 0 || plain.byModel[spareModel] != 0 {
		t.Errorf("plain: %+v; want failures, and no answer from %s", plain, spareModel)
	}
	if fb.ok != o.nFallback || fb.byModel[spareModel] != plain.failed || fb.streams != o.nFallback/4 {
		t.Errorf("fallback: %+v; want every request answered, the %d refused ones by %s, all %d streams whole",
			fb, plain.failed, spareModel, o.nFallback/4)
	}
	var out bytes.Buffer
	printFallback(&out, plain, fb)
	if !strings.Contains(out.String(), "answered by "+spareModel) {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestPoolSection(t *testing.T) {
	o := options{nPool: 60, workers: 8, pOverload: 0.3, seed: 1, timeout: 30e9}
	plain := poolRun(o, "plain", func([]string) http.RoundTripper { return &http.Transport{} })
	pooled := poolRun(o, "pool", func(urls []string) http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{}, Policy: deployments(urls)}
	})
	if plain.failed == 0 || plain.served[1]+plain.served[2] != 0 {
		t.Errorf("plain: %+v; want failures, and no answer from d1 or d2", plain)
	}
	if pooled.ok != o.nPool || pooled.served[0] == 0 || pooled.served[1] == 0 || pooled.served[2] == 0 {
		t.Errorf("pool: %+v; want every request answered, by every deployment", pooled)
	}
	var out bytes.Buffer
	printPool(&out, plain, pooled)
	if !strings.Contains(out.String(), "answered by d2") {
		t.Errorf("table:\n%s", out.String())
	}
}
