package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// The fleet's tail (-tail N): for each fleet cell, the N requests whose last
// attempt the server received latest, each with its attempts' times from the
// start and their statuses, printed to stderr; to see why a cell ended late
// (a request refused again and again, a backoff slept with the server idle).

// printFleetTail prints the tail of run's server log to stderr.
func printFleetTail(name string, run fleetRun, n int) {
	type req struct {
		attempts []llmretrytest.Request
		last     time.Time
	}
	byBody := map[[32]byte]*req{}
	for _, r := range run.log {
		q := byBody[r.BodyHash]
		if q == nil {
			q = &req{}
			byBody[r.BodyHash] = q
		}
		q.attempts = append(q.attempts, r)
		if r.Time.After(q.last) {
			q.last = r.Time
		}
	}
	all := make([]*req, 0, len(byBody))
	for _, q := range byBody {
		all = append(all, q)
	}
	slices.SortFunc(all, func(a, b *req) int { return b.last.Compare(a.last) })
	print := func(q *req) {
		var b strings.Builder
		for _, a := range q.attempts {
			fmt.Fprintf(&b, " %d@%d", a.Status, a.Time.Sub(run.start).Milliseconds())
		}
		fmt.Fprintf(os.Stderr, " %s\n", b.String())
	}
	fmt.Fprintf(os.Stderr, "tail of %s (wall %.2f s):\n", name, run.wall.Seconds())
	for _, q := range all[:min(n, len(all))] {
		print(q)
	}
	// And the requests whose last attempt the server refused: those that
	// failed (or whose last attempt the client gave up on).
	fmt.Fprintf(os.Stderr, "refused last, %s:\n", name)
	for _, q := range all {
		if last := q.attempts[len(q.attempts)-1]; last.Status >= 400 {
			print(q)
		}
	}
}
