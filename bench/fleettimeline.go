package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// The fleet's timeline (-timeline with the fleet, leave and shift
// scenarios): per interval, each process's successes and 429s as the
// server logged them and, for llmretry, the request rate in force in it,
// as the worker traced it; to see where a fleet lost time (its start, the
// sawtooth of its shares, or a tail where one process finishes alone).

// paceSeries is a worker's mean request rate in force per interval of
// width w from start (0 where it sent nothing), from its trace.
func (t *pacingTrace) paceSeries(start time.Time, w time.Duration) []float64 {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var sum []float64
	var n []int
	for _, l := range t.limits {
		i := int(l.at.Sub(start) / w)
		if i < 0 {
			continue
		}
		for len(sum) <= i {
			sum, n = append(sum, 0), append(n, 0)
		}
		sum[i] += float64(l.lim.RequestRate)
		n[i]++
	}
	for i := range sum {
		if n[i] > 0 {
			sum[i] /= float64(n[i])
		}
	}
	return sum
}

// printFleetTimeline writes run's timeline in intervals of w: a line per
// interval, a column per process ("ok/429 @pace"), and each process's end.
func printFleetTimeline(name string, run fleetRun, results []workerResult, w time.Duration) {
	procs := len(results)
	type cnt struct{ ok, limited int }
	var rows [][]cnt
	for _, q := range run.log {
		p, err := strconv.Atoi(q.Header.Get(processHeader))
		if err != nil || p < 0 || p >= procs {
			continue
		}
		i := max(int(q.Time.Sub(run.start)/w), 0)
		for len(rows) <= i {
			rows = append(rows, make([]cnt, procs))
		}
		switch q.Status {
		case http.StatusOK:
			rows[i][p].ok++
		case http.StatusTooManyRequests:
			rows[i][p].limited++
		}
	}
	fmt.Fprintf(os.Stderr, "\n%s: wall %v; ends:", name, run.wall.Round(time.Millisecond))
	for _, r := range results {
		fmt.Fprintf(os.Stderr, " %.2fs", time.Unix(0, r.EndUnixNano).Sub(run.start).Seconds())
	}
	fmt.Fprintln(os.Stderr)
	for i, row := range rows {
		var b strings.Builder
		fmt.Fprintf(&b, "  %6.2fs", (time.Duration(i) * w).Seconds())
		tot := 0
		for p, c := range row {
			tot += c.ok
			pace := 0.0
			if s := results[p].Pace; i < len(s) {
				pace = s[i]
			}
			fmt.Fprintf(&b, " | %3d/%-3d @%5.1f", c.ok, c.limited, pace)
		}
		fmt.Fprintf(&b, " | ok %3d", tot)
		fmt.Fprintln(os.Stderr, b.String())
	}
}
