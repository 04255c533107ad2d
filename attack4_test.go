package llmretry

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestHeldRetryGivesItsSlotBack: a retry waiting for the budget sends
// nothing, so it does not keep its in-flight slot, as a retry waiting out
// its backoff does not. With MaxInFlight 1 it once kept it: no other
// request could go, so none could succeed and let it go, and it waited for
// its probe (up to 30 s) with the service back up.
func TestHeldRetryGivesItsSlotBack(t *testing.T) {
	t.Parallel()
	pol := &Policy{Budget: RetryBudget{Reserve: 0.5}, BaseDelay: time.Second, MaxDelay: 40 * time.Second,
		Limits: Limits{MaxInFlight: 1, DisableLearning: true}}
	tr, srv, ft := setup(t, pol)
	srv.Enqueue(llmretrytest.Dialect("openai").Overloaded(0)) // then 200s
	b := tr.budgets.get(pol)
	b.probes, b.probeAt = 5, ft.Now().Add(30*time.Second) // no probe soon
	var other *http.Response
	var otherErr error
	sleeps := 0
	tr.sleep = func(ctx context.Context, d time.Duration) error {
		if sleeps++; sleeps == 1 { // the first request's backoff, in line
			octx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // real time: only the bug waits it out
			defer cancel()
			req, _ := http.NewRequestWithContext(octx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer sk-test-secret-key-1234") // the same key: the same slot
			if other, otherErr = tr.RoundTrip(req); otherErr == nil {
				other.Body.Close()
			}
		}
		return ft.Sleep(ctx, d)
	}
	t0 := ft.Now()
	resp, _, err := post(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %v, %v; want 200", resp, err)
	}
	if otherErr != nil || other.StatusCode != 200 {
		t.Fatalf("another request while a retry waited for the budget: %v, %v; want 200 (the waiting retry kept the only in-flight slot)", other, otherErr)
	}
	if waited := ft.Now().Sub(t0); waited >= 30*time.Second {
		t.Errorf("the held retry waited %v, want less than its probe (the other's success lets it go)", waited)
	}
}

// TestHostsKeysThatNeverMatch: a key with two "*" or an empty label (a
// leading dot as in a cookie domain, "..") could never match a host; it was
// skipped without a word. It fails every RoundTrip with an error naming it,
// as other such keys do. An IPv6 address with a zone is a host, not a port.
func TestHostsKeysThatNeverMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, url, wantErr string // wantErr "": the key matches url
	}{
		{"*.*.gob.example", "https://a.b.gob.example/v1", `"*.*.gob.example" has more than one *`},
		{"**.gob.example", "https://a.gob.example/v1", `has more than one *`},
		{".gob.example", "https://api.gob.example/v1", `".gob.example" has an empty label`},
		{"api..gob.example", "https://api.gob.example/v1", `has an empty label`},
		{"api.gob.example..", "https://api.gob.example/v1", `has an empty label`},
		{"*.", "http://localhost/v1", ""},
		{"fe80::1%eth0", "http://[fe80::1%25eth0]:8080/v1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			gob := gptGobPolicy()
			tr := &Transport{Hosts: map[string]*Policy{tt.key: gob},
				Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
					return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
				})}
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			resp, err := tr.RoundTrip(req)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := tr.policyFor(req, requestOptions{}); got != gob {
					t.Errorf("policy %q, want the Hosts key's", got.name())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one naming the key: %s", err, tt.wantErr)
			}
		})
	}
}

// TestHeldRetryCanceledIsReported: an attempt whose retry was waiting for
// the budget when the request was canceled is reported (context_done), as
// every attempt is: it was not, so AttemptEnd missed it and an Observer's
// AttemptStart (an otel span) was never ended.
func TestHeldRetryCanceledIsReported(t *testing.T) {
	t.Parallel()
	pol := &Policy{Budget: RetryBudget{Reserve: 0.5}, BaseDelay: time.Second, MaxDelay: time.Minute, Limits: Limits{DisableLearning: true}}
	tr, srv, ft := setup(t, pol)
	srv.Respond(func(llmretrytest.Request) llmretrytest.Step { return llmretrytest.Dialect("openai").Overloaded(0) })
	b := tr.budgets.get(pol)
	b.probes, b.probeAt = 5, ft.Now().Add(20*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.sleep = func(c context.Context, d time.Duration) error {
		cancel() // while the retry waits in line
		return ft.Sleep(c, d)
	}
	var started, ended int
	var decisions []Decision
	tr.Observer = &Observer{
		AttemptStart: func(r *http.Request, _ int) *http.Request { started++; return r },
		AttemptEnd: func(a AttemptInfo, resp *http.Response) { // as the otel module: the span ends when the body is closed
			decisions = append(decisions, a.Decision)
			if resp == nil || resp.Body == nil {
				ended++
				return
			}
			resp.Body = &endOnClose{resp.Body, &ended}
		},
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
	if _, err := tr.RoundTrip(req); !errorsIs(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled (decisions %v)", err, decisions)
	}
	if len(decisions) != 1 || decisions[0] != DecisionContextDone || started != ended {
		t.Errorf("decisions %v, %d attempts started and %d ended; want [context_done], each started attempt ended", decisions, started, ended)
	}
}

// endOnClose counts its first Close in *ended.
type endOnClose struct {
	io.ReadCloser
	ended *int
}

func (b *endOnClose) Close() error {
	if b.ended != nil {
		*b.ended++
		b.ended = nil
	}
	return b.ReadCloser.Close()
}

// TestBudgetFreeTurnNotLost: a success lets the two oldest waiting retries
// go for nothing; one of them that gives up before it goes (its context
// ended) passes its turn to the next in line, as a paid one does. It was
// lost: the next waited for a probe, up to 30 s, the service up.
func TestBudgetFreeTurnNotLost(t *testing.T) {
	t.Parallel()
	b := newBudget(RetryBudget{}, time.Second)
	b.balance = -5
	woken := map[*held]bool{}
	var line []*held
	for range 3 {
		var h *held
		h = b.hold(func() { woken[h] = true })
		line = append(line, h)
	}
	b.earn(Verdict{Class: ClassOK})
	if !woken[line[0]] || !woken[line[1]] || woken[line[2]] {
		t.Fatalf("a success woke %v, %v, %v; want the two oldest", woken[line[0]], woken[line[1]], woken[line[2]])
	}
	b.leave(line[1]) // canceled before it went
	if !woken[line[2]] || len(b.line) != 0 {
		t.Errorf("the turn of a woken retry that gave up was lost: the next in line not woken (line %d)", len(b.line))
	}
	if ok, _ := b.turn(line[2], time.Now(), 0.5); !ok {
		t.Error("the next in line may not go")
	}
}

// TestLimiterPauseDuringHeadWait: a pause that comes while the head of a
// key's queue waits for its tokens holds it too ("Pause holds every request
// under key until until"): it went when its tokens were due, in the pause.
func TestLimiterPauseDuringHeadWait(t *testing.T) {
	t.Parallel()
	ft := &fakeTime{now: time.Now()}
	var m *MemoryLimiter
	until := ft.Now().Add(10 * time.Second)
	paused := false
	m = &MemoryLimiter{seams: &seams{now: ft.Now, sleep: func(ctx context.Context, d time.Duration) error {
		if !paused { // a 429 elsewhere, while the head waits its second
			paused = true
			m.Pause(ctx, "k", until)
		}
		return ft.Sleep(ctx, d)
	}}}
	lim := Pace{RequestRate: 1, RequestBurst: 1}
	if err := m.Wait(bg(), "k", lim, 1); err != nil { // takes the burst
		t.Fatal(err)
	}
	if err := m.Wait(bg(), "k", lim, 1); err != nil {
		t.Fatal(err)
	}
	if now := ft.Now(); now.Before(until) {
		t.Errorf("the request went %v before the pause's end", until.Sub(now))
	}
}
