package main

import (
	"context"
	"strconv"
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
)

// TestDrawsAreIndependent: a request whose attempt failed fails its next at
// the same rate as any attempt, so that the ideal with k retries is
// 1 − s^(k+1). The FNV draw keyed on the body hash failed a second attempt
// after a failed first 32% of the time at a 50% share.
func TestDrawsAreIndependent(t *testing.T) {
	const n, share = 4000, 50
	var failed [4]int // failed[a]: requests whose attempts 1..a all failed
	failed[0] = n
	for i := range n {
		for a := 1; a <= 3 && failsDraw(i, a, share); a++ {
			failed[a]++
		}
	}
	for a := 1; a <= 3; a++ {
		if rate := float64(failed[a]) / float64(failed[a-1]); rate < 0.46 || rate > 0.54 {
			t.Errorf("attempt %d failed after %d failures in a row at a rate of %.3f, want 0.50 ± 0.04", a, a-1, rate)
		}
	}
	if ok, _ := drawnIdeal(n, share, 2); ok < n*85/100 || ok > n*90/100 {
		t.Errorf("ideal with 2 retries: %d/%d, want about 87.5%%", ok, n)
	}
}

// TestEveryClientSendsItsRequestIndex: the draws are keyed on requestHeader,
// so every client must send it, openai-go (which builds its own request)
// included; a client that did not would get 400s from failing.
func TestEveryClientSendsItsRequestIndex(t *testing.T) {
	for _, c := range append([]client{plain, budgetOff}, peers...) {
		srv := llmretrytest.NewServer()
		srv.Respond(failing(0, 0, nil))
		send := c.make(config{retries: 2}, limits{requestsPerMinute: 6000, requestBurst: 10}, srv.URL)
		if !send(context.Background(), 7) {
			t.Errorf("%s: request failed", c.name)
		}
		for _, r := range srv.Requests() {
			if got := r.Header.Get(requestHeader); got != strconv.Itoa(7) {
				t.Errorf("%s sent %s %q, want 7", c.name, requestHeader, got)
			}
		}
		srv.Close()
	}
}
