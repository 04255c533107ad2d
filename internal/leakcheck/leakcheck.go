// Package leakcheck fails a test binary whose goroutines outlive its tests
// (Main), and a test whose own goroutines outlive it (Check), as
// go.uber.org/goleak does, with the standard library only: a test-only
// requirement of the core module would still be listed in every user's module
// graph and go.sum (CONTRIBUTING, "Dependencies"). The sub-modules use goleak.
//
// Check works under t.Parallel, which goleak.VerifyNone does not: it finds
// the test's goroutines by a profiler label that every goroutine inherits
// from the one that started it, not by comparing snapshots of all goroutines.
package leakcheck

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const labelKey = "leakcheck"

var lastID atomic.Int64 // labels of concurrent Checks must differ; not state a test observes

// Check labels the calling goroutine, so that every goroutine it starts from
// now on (and they, theirs) carries the label, and registers a cleanup that
// waits up to 5 s for all of them to end, and fails t naming the ones left.
// Call it first in a test: cleanups run last-registered first, so the check
// runs after the test's other cleanups (servers closed, idle connections
// dropped). A goroutine parked in a shared pool (http.DefaultTransport's
// idle connections) counts as left: give the test its own pool.
func Check(t testing.TB) {
	t.Helper()
	check(t, 5*time.Second)
}

func check(t testing.TB, wait time.Duration) {
	id := strconv.FormatInt(lastID.Add(1), 10)
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(labelKey, id)))
	t.Cleanup(func() {
		deadline := time.Now().Add(wait)
		for {
			left := Labelled(id)
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leakcheck: %d goroutine stacks started by %s outlived it:\n\n%s", len(left), t.Name(), strings.Join(left, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// Labelled returns the goroutine stacks (grouped as the goroutine profile
// groups them) that carry the label of Check number id, other than the
// caller's.
func Labelled(id string) []string {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return []string{"leakcheck: goroutine profile: " + err.Error()}
	}
	mark := `"` + labelKey + `":"` + id + `"`
	var left []string
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, mark) && !strings.Contains(g, "leakcheck.Labelled") {
			left = append(left, strings.TrimSpace(g))
		}
	}
	return left
}

// Main runs the tests, then waits up to 5 s for every goroutine they started
// to end; if some are left it prints their stacks and fails. Use it as
// TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			t.CloseIdleConnections() // examples use the default pool
		}
		if left := wait(5 * time.Second); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutines outlived the tests:\n\n%s\n", len(left), strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// wait polls until no unexpected goroutine is left or d has passed, and
// returns those left.
func wait(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		left := Goroutines()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ignored are frames of goroutines that belong to the runtime or the test
// framework, not to the code under test.
var ignored = []string{
	"testing.(*M).",
	"testing.RunTests",
	"testing.runFuzzTests",
	"testing.runFuzzing",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"leakcheck.Goroutines",
}

// Goroutines returns the stacks of the running goroutines other than the
// caller's and the test framework's.
func Goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
next:
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, frame := range ignored {
			if strings.Contains(g, frame) {
				continue next
			}
		}
		if strings.TrimSpace(g) != "" {
			left = append(left, g)
		}
	}
	return left
}
