package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// requestHeader carries a request's index in the workload (0..n-1). Every
// client sends it the same way, so that a server can draw its failures per
// request whatever JSON the client serializes: openai-go writes its own
// body, so a draw keyed on the body hash gave it other failures than the
// http.Client peers (issue 20's "llmretry 371/400 vs openai-go 379/400" was
// those draws, not the clients).
const requestHeader = "X-Bench-Request"

// requestIndex is the index a request carries in requestHeader.
func requestIndex(r llmretrytest.Request) (int, bool) {
	i, err := strconv.Atoi(r.Header.Get(requestHeader))
	return i, err == nil
}

// failsDraw reports whether attempt a of request i falls in share percent:
// the same attempts of the same requests for every client, and independent
// from one attempt to the next, so that with share s and k retries a client
// that retries every failure succeeds on 1 − (s/100)^(k+1) of the requests.
//
// The draw is splitmix64's finalizer on (i, a). The FNV-1a of body hash and
// attempt it replaces differs only in its last steps from one attempt to the
// next, and its draws were correlated: at 50%, a request whose first attempt
// failed failed its second 32% of the time, not 50% (400 requests, 2
// retries: 371 succeeded where independent draws give about 350).
func failsDraw(i, a, share int) bool {
	x := uint64(i)<<20 ^ uint64(a)
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return int(x%100) < share
}

// failing answers the attempts failsDraw picks (share percent) with fail and
// the others with a completion after delay. A request without requestHeader
// gets a 400 at once: a client that does not send it shows as failures
// instead of facing draws of its own.
func failing(share int, delay time.Duration, fail func() llmretrytest.Step) func(llmretrytest.Request) llmretrytest.Step {
	return func(r llmretrytest.Request) llmretrytest.Step {
		i, ok := requestIndex(r)
		if !ok {
			return llmretrytest.Step{Status: http.StatusBadRequest, Body: []byte(`{"error":{"message":"no ` + requestHeader + ` header"}}`)}
		}
		st := llmretrytest.Step{}
		if failsDraw(i, r.Attempt, share) {
			st = fail()
		}
		st.Delay = delay
		return st
	}
}

// drawnIdeal is what a client that retries every failure, up to retries
// times and within its deadline, gets from n requests under failsDraw at
// share percent: the requests that succeed, and the attempts per request.
// The rows of a scenario that draws are read against it: a client below it
// refused a retry or ran out of time.
func drawnIdeal(n, share, retries int) (ok int, perRequest float64) {
	attempts := 0
	for i := range n {
		for a := 1; a <= retries+1; a++ {
			attempts++
			if !failsDraw(i, a, share) {
				ok++
				break
			}
		}
	}
	return ok, float64(attempts) / float64(n)
}
