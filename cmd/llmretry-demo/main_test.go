package main

import (
	"bytes"
	"fmt"
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
	plain := run(o, llmretrytest.GPTGob, "plain", func() http.RoundTripper { return &http.Transport{} })
	retry := run(o, llmretrytest.GPTGob, "llmretry", func() http.RoundTripper {
		return &llmretry.Transport{Base: &http.Transport{}, Policy: policyFor(llmretrytest.GPTGob)}
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
	want := fmt.Sprintf("%d of its %d requests failed with the plain client, %d of %d with llmretry,\nwhich sent them %d times (did not retry them). Other failures: %d plain, %d llmretry.",
		quota, quota, quota, quota, quota, plain.failed-quota, retry.failed-quota)
	if !strings.Contains(footer, want) {
		t.Errorf("footer:\n%s\nwant it to say:\n%s", footer, want)
	}
	for _, row := range []string{"succeeded", "failed", "attempts", "429s received", "p50 latency", "p99 latency", "wall time"} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("table lacks %q:\n%s", row, out.String())
		}
	}
}

func TestRealNeedsKeyFromEnvironment(t *testing.T) {
	t.Setenv("LLMRETRY_TEST_EMPTY", "")
	err := runReal(options{baseURL: "http://127.0.0.1:1/v1", model: "m", keyEnv: "LLMRETRY_TEST_EMPTY", n: 1})
	if err == nil || !strings.Contains(err.Error(), "LLMRETRY_TEST_EMPTY") {
		t.Errorf("err = %v, want a message naming the environment variable", err)
	}
}

func TestFallbackSection(t *testing.T) {
	o := options{nFallback: 80, workers: 8, pOverload: 0.4, seed: 1, timeout: 30e9}
	plain := fallbackRun(o, "plain", func() http.RoundTripper { return &http.Transport{} })
	fb := fallbackRun(o, "fallback", func() http.RoundTripper {
		p := llmretry.GPTGob()
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
