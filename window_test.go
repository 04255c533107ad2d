package llmretry

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// windowAnswer is a 200 from a fixed window of limit with remaining left,
// ending at end, in Unix milliseconds.
func windowAnswer(limit, remaining int, end time.Time) *http.Response {
	return ok200(http.Header{
		"X-Ratelimit-Limit":     {strconv.Itoa(limit)},
		"X-Ratelimit-Remaining": {strconv.Itoa(remaining)},
		"X-Ratelimit-Reset":     {strconv.FormatInt(end.UnixMilli(), 10)},
	})
}

// TestPacingWindowHerdStaysWithinAllowance: a window's remaining allowance,
// read on one answer, is not overshot by the attempts sent after it while
// none of them has been answered (a herd in flight): the key pauses when
// its own count takes the allowance, until the window ends, and counts the
// next window (whose length it guessed from the first) the same way.
func TestPacingWindowHerdStaysWithinAllowance(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	end := testNow.Add(900 * time.Millisecond)
	tk := p.send(bg(), ft.Now(), 1, false)
	p.observe(bg(), windowAnswer(100, 99, end), Verdict{Status: 200}, tk, ft.Now())
	var sent []time.Time
	for i := 0; i < 250; i++ { // none answered: all in flight
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ft.Now())
		p.send(bg(), ft.Now(), 1, false)
	}
	count := func(from, to time.Time) int {
		n := 0
		for _, s := range sent {
			if !s.Before(from) && s.Before(to) {
				n++
			}
		}
		return n
	}
	if n := count(testNow, end); n != 99 {
		t.Errorf("%d sent in the first window after the answer that left 99, want 99", n)
	}
	if n := count(end, end.Add(time.Second)); n != 100 {
		t.Errorf("%d sent in the next window (guessed 1 s long), want its allowance, 100", n)
	}
	if s := sent[199]; s.Before(end.Add(time.Second)) {
		t.Errorf("the 201st request went at %v, before the second window's end", s.Sub(testNow))
	}
}

// TestPacingWindowLeastRemaining: answers read out of order within a window
// (the server counted them in another order than they were sent) leave the
// count at the least remaining announced, less nothing already answered.
func TestPacingWindowLeastRemaining(t *testing.T) {
	t.Parallel()
	var w windowState
	now := testNow.UnixNano()
	end := testNow.Add(time.Second).UnixNano()
	for i := 0; i < 10; i++ {
		w.take(1, now)
	}
	for _, r := range []int64{95, 99, 90, 97} { // four answered, out of order
		w.answered(1)
		w.read(100, r, end, 0, now, true)
	}
	// Six in flight, 90 left at the latest count: 84 may go.
	for i := 0; i < 83; i++ {
		if _, full := w.take(1, now); full {
			t.Fatalf("full after %d more, want 84", i+1)
		}
	}
	_, full := w.take(1, now)
	if _, room := w.room(now); full || room {
		t.Errorf("after 84 more: paused %v, room %v; want the key held (the least remaining, 90, less the 6 in flight)", full, room)
	}
}

// TestPacingWindowCautiousCountGivesBack: in a window first seen in the
// middle, attempts in flight that the server counted before the answer
// with the least remaining are counted twice, and the cautious count takes
// the allowance early. Their answers give it back: the key is held, not
// paused until the window ends, and the allowance is sent whole. (Paused,
// a run's first window went one or two short of its allowance, and the run
// took a window more: bench matrix rfc3339, github, unix-ms, 1.00× instead
// of 0.83× of the optimum.)
func TestPacingWindowCautiousCountGivesBack(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	end := testNow.Add(time.Second)
	answer := func(tk ticket, remaining int) {
		p.observe(bg(), windowAnswer(10, remaining, end), Verdict{Status: 200}, tk, ft.Now())
	}
	sent := 0
	send := func() ticket {
		t.Helper()
		if err := p.acquire(bg(), 1, ft.Now()); err != nil {
			t.Fatal(err)
		}
		if !ft.Now().Before(end) {
			t.Fatalf("request %d waited for the window's end: %d sent in it, want its allowance, 10", sent+1, sent)
		}
		sent++
		return p.send(bg(), ft.Now(), 1, false)
	}
	answer(send(), 9) // the window, first seen: 9 left
	var tks []ticket
	for i := 0; i < 5; i++ {
		tks = append(tks, send())
	}
	// The server counted the first three; the third's answer comes first.
	answer(tks[2], 6)
	// 6 left, less 4 in flight: the cautious count allows 2 more, though
	// the first two in flight are already counted in the 6.
	tks = append(tks, send(), send())
	for _, a := range [][2]int{{0, 8}, {1, 7}, {3, 5}, {4, 4}, {5, 3}, {6, 2}} {
		answer(tks[a[0]], a[1])
	}
	// All answered: 2 left, and they go at once.
	send()
	send()
	// The allowance is sent: the next request waits for the window's end.
	if err := p.acquire(bg(), 1, ft.Now()); err != nil {
		t.Fatal(err)
	}
	if ft.Now().Before(end) {
		t.Errorf("the 11th request went at %v, before the window's end: the allowance is 10", ft.Now().Sub(testNow))
	}
}

// TestPacingCoarseHintPausesOthersLess: a whole-second Retry-After pauses
// the other requests a second less than it says when a pace holds the key
// (the pace releases them one by one), and the whole hint when none does.
func TestPacingCoarseHintPausesOthersLess(t *testing.T) {
	t.Parallel()
	hinted := func() *http.Response { return limited(http.Header{"Retry-After": {"3"}}) }
	tests := []struct {
		name string
		pol  *Policy
		want time.Duration
	}{
		{"configured pace", &Policy{Limits: Limits{RequestsPerMinute: 6000}}, 2 * time.Second},
		{"no pace", &Policy{Limits: Limits{DisableLearning: true}}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := testPacer(tt.pol)
			resp := hinted()
			p.observe(bg(), resp, genericPolicy().classify(resp, nil, testNow), p.send(bg(), testNow, 1, false), testNow)
			if got := time.Duration(p.pausedUntil.Load() - testNow.UnixNano()); got != tt.want {
				t.Errorf("paused for %v, want %v", got, tt.want)
			}
		})
	}
}
