// Package leakcheck fails a test binary whose goroutines outlive its tests,
// as go.uber.org/goleak does, with the standard library only, so that the
// core module keeps its dependencies few.
package leakcheck

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

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
