package llmretry

import (
	"sync"
	"time"
)

// A fixed window (GitHub's X-RateLimit-*, Cencori's, a daily quota) lets its
// whole allowance go at once, and refuses everything after it until the
// window ends. Its headers show what was left when the server answered an
// attempt, not what the attempts sent since have taken: with many in
// flight, the herd overshoots the allowance and earns a 429 each. The
// window model counts the key's own sends against what the server last
// said was left, and pauses the key when its count reaches the allowance,
// until the window ends. Once two window ends have been read, it knows the
// window's length and carries the count into the next windows, so that a
// server announcing its window only on 429s (Cencori) is paced too.
//
// In a window first seen in the middle, the count is a cautious bound: an
// attempt in flight may already be counted in the least remaining read (the
// server counted it before the attempt whose answer said so). When that
// bound takes the allowance while other attempts are in flight, the key is
// not paused: it is held (windowState.held), and a request may go as soon
// as their answers show room again. A pause until the window's end left a
// run's first window one or two requests short of its allowance, and cost
// a whole window at the run's end (bench matrix rfc3339, github, unix-ms:
// 1.00× or 0.83× of the optimum by chance, as the answers came back).

// windowState models one unit's window for a key. Safe for concurrent use.
//
// In a window it has seen begin, the model counts what the key sent in it:
// the allowance less that is what is left, or the least remaining the
// server announced (its latest count: remaining only falls within a
// window) if other clients took more. In a window first seen in the middle
// it knows only the least remaining, less what the attempts not yet
// answered take, a cautious bound: some of them may be counted in it.
type windowState struct {
	mu       sync.Mutex
	limit    int64 // the allowance per window; 0 until read
	end      int64 // Unix nanoseconds: the current window's end; 0 when unknown
	lastEnd  int64 // the end of the window before, once it has passed
	length   int64 // nanoseconds: the shortest time seen between two ends; 0 until known
	least    int64 // the least remaining read in the current window
	inflight int64 // what the attempts counted by take and not yet answered cost
	sent     int64 // what was sent in the current window, if counting
	okIn     int64 // successes answered in the current window
	counting bool  // the current window was seen to begin: sent is all it took from us
	held     bool  // take found the allowance taken on a cautious count (see room)
	guessed  bool  // length is a guess, not yet seen
	seen     int64 // when the current window was first read
	gran     int64 // the resolution of its end
	readAt   int64 // when a window was last read: the model lapses learnedTTL after
	okRead   bool  // the last reading came with a success
	distrust int64 // Unix nanoseconds: until then, window claims are ignored (outvoted)
}

// windowLengths are the lengths a window is guessed to have before two of
// its ends have been seen: the shortest that fits what was seen of it.
var windowLengths = [...]time.Duration{time.Second, 10 * time.Second, time.Minute, time.Hour, 24 * time.Hour}

// guessLength is the shortest usual window length at least span long.
func guessLength(span int64) int64 {
	for _, l := range windowLengths {
		if span <= int64(l) {
			return int64(l)
		}
	}
	return 0
}

// maxWindowLength bounds a window length inferred from two ends: longer
// windows are not carried forward (the next one's end will be read).
const maxWindowLength = int64(24 * time.Hour)

// answered counts an attempt that take counted (cost units) as answered.
func (w *windowState) answered(cost int64) {
	w.mu.Lock()
	w.inflight = max(w.inflight-cost, 0)
	w.mu.Unlock()
}

// read learns from a window's reading at now (Unix nanoseconds), on an
// answer already counted by answered: its limit (0 if not sent), what
// remained, its end, and the end's resolution (a second, for whole Unix
// seconds: it may be that much late); ok if the answer was a success.
func (w *windowState) read(limit, remaining, end, gran, now int64, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	if end <= now || now < w.distrust {
		return
	}
	w.readAt, w.okRead = now, ok
	if limit > 0 {
		w.limit = limit
	}
	tolerance := int64(time.Second) / 2
	if w.length > 0 {
		tolerance = min(tolerance, w.length/2)
	}
	switch {
	case w.end == 0:
		if w.lastEnd != 0 && end > w.lastEnd {
			if d := end - w.lastEnd; d <= maxWindowLength && (w.length == 0 || w.guessed || d < w.length) {
				w.length, w.guessed = d, false
			}
		}
		w.end, w.least, w.counting, w.seen, w.gran, w.okIn = end, remaining, false, now, gran, 0
	case end > w.end+tolerance || end < w.end-tolerance && w.guessed:
		// The server's window ends elsewhere than the one we count in:
		// ours was wrong. Trust the server, and forget a guessed length.
		if w.guessed {
			w.length, w.guessed = 0, false
		}
		w.end, w.least, w.counting, w.seen, w.okIn, w.held = end, remaining, false, now, 0, false
	case end >= w.end-tolerance:
		w.end, w.least = max(w.end, end), min(w.least, remaining)
	}
}

// unread learns from a success at now that carried no window: if the
// window was claimed by successes' headers, a server that stopped sending
// them no longer stands by it (one hostile 200 announcing a window of 1 held
// a key at 1 request/s for minutes). A window read from 429s alone
// (Cencori's) stands until it lapses.
func (w *windowState) unread(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.okRead && w.end != 0 {
		w.forget()
	}
}

// succeeded counts a success answered at now in the window under way.
func (w *windowState) succeeded(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	w.okIn++
}

// refusedEarly learns from a 429 at now whose headers claim the window
// spent: if the server accepted less than half its allowance from us in a
// window we saw begin, the claim does not describe what refuses (a
// gateway's window over a bucket, or a fleet's other processes taking the
// rest). Successes count, not sends: a herd released at the window's start
// is sent whole and mostly refused. A window first seen on this 429 is
// judged by the claim's own limit (claimed) against the successes of the
// last second (recent), if it ends within a second and a half (a short
// window: the last second is most of it); so is a window first seen in
// the middle, on the answers of a burst (the successes of a run's first
// wave read it, and its 429s then found it trusted: the key paused to the
// whole second and its 64 workers went at it together, into a bucket of
// 10). What the server accepts is the better measure then: the window is
// forgotten and its claims are ignored for learnedTTL, and the 429 is left
// to the estimate. It reports whether it outvoted the claim.
func (w *windowState) refusedEarly(now, claimed, end, recent int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	switch {
	case w.counting:
		if w.limit <= 0 || w.okIn*2 >= w.limit || w.length > int64(maxOutvotedWindow) {
			return false
		}
	default: // first seen on this 429, or in the middle
		if claimed <= 0 || recent*2 >= claimed || end-now > int64(firstSightWindow) {
			return false
		}
	}
	w.forget()
	w.distrust = now + int64(learnedTTL)
	return true
}

// firstSightWindow is how far off the end of a window first seen on a 429
// may be for refusedEarly to judge it by the last second's successes.
const firstSightWindow = 1500 * time.Millisecond

// maxOutvotedWindow is the longest window refusedEarly outvotes: a gateway
// approximating a bucket announces short windows, while a day's quota that
// other clients spent is what it says, and its end pauses nothing anyway
// (it is beyond MaxWait).
const maxOutvotedWindow = 10 * time.Second

// trusted reports whether window claims are heeded at now.
func (w *windowState) trusted(now int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return now >= w.distrust
}

// forget drops the window model, keeping what is in flight and the distrust.
// Caller holds w.mu.
func (w *windowState) forget() {
	w.limit, w.end, w.lastEnd, w.length, w.least, w.sent, w.okIn = 0, 0, 0, 0, 0, 0, 0
	w.counting, w.guessed, w.seen, w.gran, w.readAt, w.okRead, w.held = false, false, 0, 0, 0, false, false
}

// roll moves to the window under way at now. Caller holds w.mu.
func (w *windowState) roll(now int64) {
	if w.readAt != 0 && now-w.readAt > int64(learnedTTL) {
		w.forget() // a window carried forward unread lapses, as learned limits do
		return
	}
	if w.end == 0 || now < w.end {
		return
	}
	w.lastEnd, w.held = w.end, false
	if w.length <= 0 && w.seen != 0 {
		// The next window begins now; guess its length from what was
		// seen of this one (Cencori's first 429 in a one-second window
		// shows its end 985 ms away: one second).
		w.length, w.guessed = guessLength(w.end-w.seen-w.gran), true
	}
	if w.length <= 0 || w.limit <= 0 {
		w.end = 0 // ended, and the next one is unknown
		return
	}
	n := (now-w.end)/w.length + 1
	w.end += n * w.length
	w.least, w.sent, w.counting, w.okIn = w.limit, 0, true, 0
}

// take counts cost units sent at now (Unix nanoseconds). It returns the
// end of the window if they take the last of its allowance: the key
// pauses until then. On a cautious count (a window first seen in the
// middle, with other attempts in flight, which it may count twice) it holds
// the key instead (see room), and reports no pause.
func (w *windowState) take(cost, now int64) (until int64, full bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight += cost
	w.roll(now)
	w.sent += cost
	if w.end == 0 {
		return 0, false
	}
	left := w.least - w.inflight
	if w.counting {
		left = min(w.limit-w.sent, w.least)
	}
	if left > 0 {
		return w.end, false
	}
	if !w.counting && w.inflight > cost {
		w.held = true
		return w.end, false
	}
	return w.end, true
}

// room reports, at now, whether a request may go in a window that take
// held: the least remaining read, less what is still in flight, leaves
// some. The answers of attempts the cautious count took twice give it back
// as they come. Otherwise it returns the window's end, until which requests
// wait (those that waited go when the window ends, as after a pause).
func (w *windowState) room(now int64) (until int64, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	if !w.held || w.end == 0 || w.least-w.inflight > 0 {
		return 0, true
	}
	return w.end, false
}

// known reports whether a window is being counted.
func (w *windowState) known() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.end != 0
}
