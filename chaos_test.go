package llmretry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// fault is one scripted bad answer and what the Transport must make of it.
type fault struct {
	name      string
	step      llmretrytest.Step
	retryable bool
	// What the caller sees if this is the last answer.
	transportErr bool // no response at all
	readErr      bool // a response whose body ends in an error
}

func chaosFaults() (retryable, final []fault) {
	hinted := func(v string) llmretrytest.Step {
		s := llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached."})
		s.Header.Set("Retry-After", v)
		return s
	}
	withMs := llmretrytest.Dialect("openai").RateLimit(0)
	withMs.Header.Set("Retry-After-Ms", "2")
	cut := llmretrytest.Dialect("openai").Overloaded(0)
	cut.Cut, cut.CutAfter = true, 10
	retryable = []fault{
		{name: "reset before headers", step: llmretrytest.Step{Reset: true}, retryable: true, transportErr: true},
		{name: "500", step: llmretrytest.Dialect("openai").ServerError(), retryable: true},
		{name: "502 html", step: llmretrytest.Step{Status: 502, Body: []byte("<html>502 Bad Gateway</html>")}, retryable: true},
		{name: "503", step: llmretrytest.Dialect("openai").Overloaded(0), retryable: true},
		{name: "503 truncated body", step: cut, retryable: true, readErr: true},
		{name: "429 retry-after-ms", step: withMs, retryable: true},
		{name: "429 no hint", step: llmretrytest.Dialect("openai").RateLimit(0), retryable: true},
		{name: "429 Retry-After negative", step: hinted("-5"), retryable: true},
		{name: "429 Retry-After huge", step: hinted("99999999999"), retryable: true},
		{name: "429 Retry-After unparsable", step: hinted("soon, probably"), retryable: true},
		{name: "429 Retry-After year 9999", step: hinted("Fri, 31 Dec 9999 23:59:59 GMT"), retryable: true},
		{name: "stalled headers, then reset", step: llmretrytest.Step{Delay: 50 * time.Millisecond, Reset: true}, retryable: true, transportErr: true},
	}
	truncatedOK := llmretrytest.Step{Status: 200, Body: []byte(llmretrytest.Completion), Cut: true, CutAfter: 20}
	final = []fault{
		{name: "400", step: llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 400, Type: "invalid_request_error", Code: "invalid_value"})},
		{name: "401", step: llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key"})},
		{name: "429 quota", step: llmretrytest.Dialect("openai").QuotaExhausted()},
		{name: "429 Retry-After 3600", step: hinted("3600")},
		{name: "200 truncated body", step: truncatedOK, readErr: true},
	}
	return retryable, final
}

// chaosAttemptTimeout only bounds a hung attempt. It cuts no fault: an
// attempt it cut would be retried and change the count of attempts the test
// checks, and on a loaded CI machine under -race an unfaulted attempt queued
// behind 63 others took more than 1 s, and once more than 5 s (the attempt
// timeout has its own tests: TestRoundTripStalledErrorBody,
// TestRoundTripAttemptTimeoutDoesNotCutTheBody).
const chaosAttemptTimeout = 30 * time.Second

// TestChaos sends 1,000 logical requests from 64 goroutines through one
// Transport while the server injects faults, chosen with a fixed seed, and
// checks every request's outcome, attempts and bytes.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos suite skipped in -short mode")
	}
	t.Parallel()
	retryable, final := chaosFaults()
	// The retry machinery alone: no pacing state, no budget, so that every
	// outcome follows from the faults.
	runChaos(t, "chaos", &Policy{Budget: RetryBudget{Disabled: true}, Limits: Limits{DisableLearning: true}}, retryable, final)
}

// TestChaosDefaults runs the chaos with the default machinery on: the probe,
// learned limits, shared pauses and the retry budget. A request may then also
// stop early because the budget is spent; everything else must hold. 429s
// without a usable hint are left out: they are independent of load here, so
// the adaptive rate would pace this test down to a few requests a second
// (TestPacingAdaptsTo429sWithoutHints covers it).
func TestChaosDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos suite skipped in -short mode")
	}
	t.Parallel()
	retryable, final := chaosFaults()
	var hinted []fault
	for _, f := range retryable {
		if !strings.HasPrefix(f.name, "429") || f.name == "429 retry-after-ms" {
			hinted = append(hinted, f)
		}
	}
	runChaos(t, "chaos with defaults", &Policy{}, hinted, final)
}

// budgetStopKey holds, in a request's context, where the hook records the
// attempt at which the retry budget stopped it.
type budgetStopKey struct{}

func runChaos(t *testing.T, label string, pol *Policy, retryable, final []fault) {
	const requests, workers, maxRetries = 1000, 64, 4
	rng := rand.New(rand.NewPCG(20261122, 1))

	type plan struct {
		faults  []fault // the answers before success; may end with a final one
		body    string
		getBody bool
	}
	plans := make([]plan, requests)
	injected := 0
	for i := range plans {
		var k int
		switch x := rng.IntN(100); {
		case x < 40:
			k = 0
		case x < 80:
			k = 1 + rng.IntN(2)
		case x < 95:
			k = 3 + rng.IntN(2)
		default:
			k = maxRetries + 1 + rng.IntN(2) // beyond the retry limit
		}
		for j := 0; j < k; j++ {
			plans[i].faults = append(plans[i].faults, retryable[rng.IntN(len(retryable))])
		}
		if rng.IntN(10) == 0 {
			plans[i].faults = append(plans[i].faults, final[rng.IntN(len(final))])
		}
		injected += len(plans[i].faults)
		plans[i].body = fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":%q}]}`,
			fmt.Sprint(i)+strings.Repeat("é", rng.IntN(20000)))
		plans[i].getBody = rng.IntN(2) == 0
	}

	srv := llmretrytest.Start(t)
	srv.Respond(func(r llmretrytest.Request) llmretrytest.Step {
		i, _ := strconv.Atoi(r.Key)
		if f := plans[i].faults; r.Attempt <= len(f) {
			return f[r.Attempt-1].step
		}
		return llmretrytest.Step{}
	})
	base := &http.Transport{MaxIdleConnsPerHost: workers}
	defer base.CloseIdleConnections()
	pol.MaxRetries, pol.BaseDelay, pol.MaxDelay, pol.AttemptTimeout = maxRetries, time.Millisecond, 4*time.Millisecond, chaosAttemptTimeout
	tr := &Transport{Base: base, Policy: pol, Observer: onAttempt(func(a AttemptInfo) {
		if a.Decision == DecisionBudgetExhausted {
			*a.Context.Value(budgetStopKey{}).(*int) = a.Attempt
		}
	})}

	// stop is the attempt whose answer the caller gets: retryable faults
	// within the limit are retried, the answer after them is returned.
	stop := func(p plan, budgetStop int) int {
		for j, f := range p.faults {
			if !f.retryable || j == maxRetries || j+1 == budgetStop {
				return j + 1
			}
		}
		return len(p.faults) + 1
	}
	budgetStops := make([]int, requests)
	var succeeded, verifiedBytes atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= requests {
					return
				}
				p := plans[i]
				var body io.Reader = strings.NewReader(p.body)
				if !p.getBody {
					body = io.NopCloser(body) // no GetBody: the Transport must buffer it
				}
				ctx := context.WithValue(context.Background(), budgetStopKey{}, &budgetStops[i])
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", body)
				req.Header.Set(llmretrytest.KeyHeader, strconv.Itoa(i))
				req.Header.Set("Authorization", "Bearer sk-chaos")

				resp, err := tr.RoundTrip(req)
				var got []byte
				var readErr error
				if err == nil {
					got, readErr = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				want := fault{step: llmretrytest.Step{Status: 200, Body: []byte(llmretrytest.Completion)}}
				if n := stop(p, budgetStops[i]); n <= len(p.faults) {
					want = p.faults[n-1]
				}
				switch {
				case want.transportErr:
					if err == nil {
						t.Errorf("request %d: got %d, want a transport error (%s)", i, resp.StatusCode, want.name)
					}
				case err != nil:
					t.Errorf("request %d: %v; want status %d (%s)", i, err, want.step.Status, want.name)
				case want.readErr:
					if readErr == nil {
						t.Errorf("request %d: body read without error, want a truncated body (%s)", i, want.name)
					}
				case resp.StatusCode != want.step.Status || !bytes.Equal(got, want.step.Body) || readErr != nil:
					t.Errorf("request %d: got %d %q (%v), want %d %q (%s)", i, resp.StatusCode, got, readErr, want.step.Status, want.step.Body, want.name)
				default:
					verifiedBytes.Add(int64(len(got)))
					if resp.StatusCode == 200 {
						succeeded.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()

	// Every attempt of every request reached the server byte-identical, and
	// no request was retried after an answer that was not worth it.
	retries, budgetStopped := 0, 0
	perKey := map[string]int{}
	for _, r := range srv.Requests() {
		i, _ := strconv.Atoi(r.Key)
		perKey[r.Key]++
		if r.Attempt > 1 {
			retries++
		}
		if r.BodyHash != sha256.Sum256([]byte(plans[i].body)) {
			t.Errorf("request %d attempt %d: the server got another body", i, r.Attempt)
		} else {
			verifiedBytes.Add(int64(r.BodyLen))
		}
	}
	for i, p := range plans {
		if budgetStops[i] > 0 {
			budgetStopped++
		}
		if got, want := perKey[strconv.Itoa(i)], stop(p, budgetStops[i]); got != want {
			t.Errorf("request %d: %d attempts, want %d (faults %v)", i, got, want, names(p.faults))
		}
	}
	fmt.Printf("%s: %d requests, %d faults injected, %d succeeded, %d retries, %d stopped by the retry budget, %d bytes verified\n",
		label, requests, injected, succeeded.Load(), retries, budgetStopped, verifiedBytes.Load())
}

func names(fs []fault) []string {
	var n []string
	for _, f := range fs {
		n = append(n, f.name)
	}
	return n
}
