package llmretry

import (
	"net/http"
	"testing"
	"time"
)

// TestPacingLone429NoPace (issue 20, attack finding 1): one 429 with
// nothing but a wait hint among 50 accepted answers is no evidence of a
// limit. No pace starts, and the key's other requests are not paused for
// the hint (the refused request itself waits it: Transport). Before, it
// started a pace at the last second's accepted rate and paused the key for
// the hint. A bare 429 still starts the estimate (TestPacingFirstCutFromAccepted),
// and so does one with rate-limit headers (TestPacingSharedBucketOutvoted).
func TestPacingLone429NoPace(t *testing.T) {
	t.Parallel()
	p, _ := testPacer(genericPolicy())
	now := testNow
	for i := 0; i < 50; i++ {
		now = now.Add(10 * time.Millisecond)
		observeAt(p, ok200(nil), now)
	}
	now = now.Add(10 * time.Millisecond)
	observeAt(p, limited(http.Header{"Retry-After-Ms": {"1000"}}), now)
	if lim, src := p.limit(now); lim.RequestRate > 0 || src != configured {
		t.Errorf("after one 429 among 50 answers: paced at %v/s from %v, want no pace", lim.RequestRate, src)
	}
	if d := time.Duration(p.pausedUntil.Load() - now.UnixNano()); d > 0 {
		t.Errorf("after one 429 among 50 answers: the key paused %v, want no pause for the others", d)
	}
}

// TestPacingSporadic429sHoldNobody (issue 20, attack finding 1): a server
// with room to spare that refuses every tenth attempt with
// retry-after-ms: 1000, a caller sending every 50 ms for 10 s, answers in
// 5 ms. No request waits in the pacer: each refusal is the refused
// request's own wait. Before, each 429 paused the key for a second and
// cut a pace started from the accepted rate: requests waited up to a
// second, and the bench's open loop queued without end (wall 33.7 s
// against openai-go's 10.3 s).
func TestPacingSporadic429sHoldNobody(t *testing.T) {
	t.Parallel()
	p, ft := testPacer(genericPolicy())
	var held time.Duration
	for i := 0; i < 200; i++ {
		if at := testNow.Add(time.Duration(i) * 50 * time.Millisecond); ft.Now().Before(at) {
			ft.Sleep(bg(), at.Sub(ft.Now()))
		}
		before := ft.Now()
		if err := p.acquire(bg(), 1, before); err != nil {
			t.Fatal(err)
		}
		held = max(held, ft.Now().Sub(before))
		tk := p.send(bg(), ft.Now(), 1, false)
		resp := ok200(nil)
		if i%10 == 9 {
			resp = limited(http.Header{"Retry-After-Ms": {"1000"}})
		}
		ft.Sleep(bg(), 5*time.Millisecond)
		at := ft.Now()
		p.observe(bg(), resp, genericPolicy().classify(resp, nil, at), tk, at)
	}
	if held > 0 {
		t.Errorf("a request waited %v in the pacer, want none: 10%% of attempts refused is no limit", held)
	}
}
