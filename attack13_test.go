package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// attack13 (h/attack13): situations where ownRefusals (e2d5f62) keeps the
// 429s of a real limit from the fleet's estimate.

// A few requests refused for themselves (every attempt, until their
// retries run out) while the key's limit drops mildly: the server takes
// 8 of every 10 other requests (the pace at 1.25× its rate), and those
// others are sent once (WithMaxRetries 0: a caller that fails fast, a body
// that cannot be replayed, a request that falls back on a 429). The key's
// share of 429s stays under ownMaxShare (about 0.27), and the only retries
// the tally sees are the ones refused for themselves, all refused again:
// ownRefusals then holds every bare 429 of the key from the fleet for as
// long as such requests keep coming, the limit's included. Nothing the
// limit refuses is retried, so no retry the server takes ever outvotes
// them; the limit's 429s outnumber the requests refused for themselves six
// to one, which the own-refusal hypothesis (one first 429 for each such
// request) cannot explain.
func TestAttack13LimitHiddenBehindOwnRefusals(t *testing.T) {
	t.Parallel()
	const (
		own     = 6 // requests refused for themselves
		retries = 3
		ok, bad = 8, 2 // other requests during each backoff, accepted and refused
	)
	tr, srv, ft, fleet := fleetSetup(t, retries)
	ft.now = ft.now.Truncate(time.Second) // the tally's slots are whole seconds: start at one
	start := ft.Now()
	for range own {
		srv.Enqueue(llmretrytest.Step{Status: 429})
		for range retries {
			for range ok {
				srv.Enqueue(llmretrytest.Step{})
			}
			for range bad {
				srv.Enqueue(llmretrytest.Step{Status: 429})
			}
			srv.Enqueue(llmretrytest.Step{Status: 429}) // the retry, refused again
		}
	}
	limit := 0 // the others' 429s: the limit's
	tr.seams.sleep = backoffSleeps(ft, 10*time.Millisecond, func(int) {
		for i := range ok + bad {
			s := postOnce(t, tr, srv.URL)
			if want := map[bool]int{true: 200, false: 429}[i < ok]; s != want {
				t.Errorf("another request: status %d, want %d", s, want)
			}
			if s == 429 {
				limit++
			}
		}
	})
	for i := range own {
		resp, _, err := post(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("request %d: status %d, want 429 (refused for itself)", i, resp.StatusCode)
		}
	}
	_, told := fleet.told()
	t.Logf("429s: %d of the limit, %d of requests refused for themselves; told the fleet %d (over %v)", limit, own*(retries+1), told, ft.Now().Sub(start))
	if told < limit {
		t.Errorf("the fleet told of %d 429s, want at least the limit's %d: the key's share of 429s is the limit's, not explained by %d requests refused for themselves", told, limit, own)
	}
}

// A limit that drops mildly (the server takes 5 of every 6 attempts: the
// pace at 1.2× its rate) just after a few requests were refused for
// themselves. Every request the limit refuses is retried, and its retry
// taken: the evidence the rule waits for. The tally of the requests
// refused for themselves holds for up to 4 s (its slots are whole
// seconds), and until the limit's accepted retries outvote it, each of
// the limit's 429s is held from the fleet.
func TestAttack13LimitDropAfterOwnRefusals(t *testing.T) {
	t.Parallel()
	const (
		own     = 3 // requests refused for themselves, first
		limited = 8 // then requests the limit refuses once
		retries = 3
	)
	tr, srv, ft, fleet := fleetSetup(t, retries)
	ft.now = ft.now.Truncate(time.Second) // the tally's slots are whole seconds: start at one
	start := ft.Now()
	for range own {
		srv.Enqueue(llmretrytest.Step{Status: 429})
		for range retries {
			for range 9 {
				srv.Enqueue(llmretrytest.Step{})
			}
			srv.Enqueue(llmretrytest.Step{Status: 429})
		}
	}
	for range limited {
		srv.Enqueue(llmretrytest.Step{Status: 429})
		for range 4 {
			srv.Enqueue(llmretrytest.Step{})
		}
		srv.Enqueue(llmretrytest.Step{}) // the retry
	}
	others := 9
	tr.seams.sleep = backoffSleeps(ft, 10*time.Millisecond, func(int) {
		for range others {
			if s := postOnce(t, tr, srv.URL); s != http.StatusOK {
				t.Errorf("another request: status %d, want 200", s)
			}
		}
	})
	for i := range own {
		resp, _, err := post(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("request %d: status %d, want 429 (refused for itself)", i, resp.StatusCode)
		}
	}
	_, before := fleet.told()
	others = 4
	for i := range limited {
		resp, _, err := post(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("limited request %d: status %d, want 200 (its retry)", i, resp.StatusCode)
		}
	}
	_, after := fleet.told()
	t.Logf("told the fleet %d of the own requests' %d 429s, then %d of the limit's %d (over %v)", before, own*(retries+1), after-before, limited, ft.Now().Sub(start))
	// Each request refused for itself may stand for its own first 429
	// and one the pace drew (and the key's very first 429 comes before
	// its tally); the rest of the limit's are the fleet's.
	if want := limited - (ownFirstsMaxWant*own - own + 1); after-before < want {
		t.Errorf("the fleet told of %d of the limit's %d 429s, want at least %d", after-before, limited, want)
	}
}

// ownFirstsMaxWant: the limit's first 429s each request refused for
// itself may hide (its own first 429 aside).
const ownFirstsMaxWant = 2

// The tally's slot of a second before 1970 (a clock that starts at the
// zero time.Time, as fakeTime{} does): sec%4 is negative there.
func TestAttack13TallyBeforeEpoch(t *testing.T) {
	t.Parallel()
	pol := genericPolicy()
	pol.Limits.Limiter = &fleetEstimator{rate: 1000, cutTo: 1000, measured: true}
	p, _ := testPacer(pol)
	p.wk.Store(&retryWaker{})
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("noteAgain before 1970: %v", r)
		}
	}()
	for _, now := range []time.Time{{}, time.Unix(-3, 0), time.Unix(-1, 0)} {
		p.noteAgain(ticket{again: 1}, now, true, 0.1)
		p.ownRefusals(now, 0.1)
	}
}
