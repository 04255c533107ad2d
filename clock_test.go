package llmretry

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestOneClock: a Transport's limiter and pacers read its seams, not copies,
// so a clock or timer a test sets after the first request still moves them;
// a MemoryLimiter's zero value runs on real time.
func TestOneClock(t *testing.T) {
	t.Parallel()
	tr := &Transport{}
	req, _ := http.NewRequest(http.MethodPost, "https://api.example.com/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer sk-test")
	pol := &Policy{Limits: Limits{RequestsPerMinute: 60, RequestBurst: 1}}
	p := pacerOf(tr, pol, req)
	if p.seams != &tr.seams || tr.pacers.mem.seams != &tr.seams {
		t.Fatal("the pacer or the limiter has a clock of its own")
	}

	ft := &fakeTime{now: testNow}
	tr.now, tr.sleep = ft.Now, ft.Sleep // after the pacer and limiter exist
	if got := p.clock(); !got.Equal(testNow) {
		t.Fatalf("pacer's clock = %v, want the Transport's %v", got, testNow)
	}
	ctx := context.Background()
	for range 2 { // the second waits out the first's second, on fake time
		if err := p.acquire(ctx, 1, p.clock()); err != nil {
			t.Fatal(err)
		}
		p.release()
	}
	if w := ft.Waits(); len(w) == 0 || ft.Now().Sub(testNow) < 900*time.Millisecond {
		t.Fatalf("the limiter's wait did not go through the Transport's timer: waits %v", w)
	}

	var m MemoryLimiter // the zero value: real time
	if m.clock().Sub(time.Now()).Abs() > time.Minute {
		t.Fatal("a zero MemoryLimiter's clock is not the real one")
	}
	if err := m.Wait(ctx, "k", Pace{RequestRate: 1, RequestBurst: 1}, 1); err != nil {
		t.Fatal(err)
	}
}
