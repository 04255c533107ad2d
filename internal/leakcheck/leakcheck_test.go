package leakcheck

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// fakeT records what Check reports, and runs cleanups when told.
type fakeT struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Name() string      { return "TestFake" }
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestCheck: a goroutine started after Check (directly or by a goroutine
// it started) and still running fails the check; one that ends before the
// cleanup does not; goroutines of other tests are not counted.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		leak  bool
		depth int
	}{
		{"ended", false, 1},
		{"left running", true, 1},
		{"left running by a goroutine it started", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan struct{})
			t.Cleanup(func() { close(done) }) // after the fake test's check
			ft := &fakeT{TB: t}
			// Check labels the goroutine it runs on: give it its own, as the
			// testing package gives each test.
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				check(ft, 200*time.Millisecond)
				started := make(chan struct{})
				var spawn func(int)
				spawn = func(n int) {
					if n == 0 {
						close(started)
						if tc.leak {
							<-done
						}
						return
					}
					go spawn(n - 1)
				}
				spawn(tc.depth)
				<-started
				time.Sleep(10 * time.Millisecond) // an ended goroutine is gone by then, mostly; Check waits anyway
				ft.end()
			}()
			wg.Wait()
			if got := len(ft.errors) > 0; got != tc.leak {
				t.Errorf("leak reported: %v, want %v (%v)", got, tc.leak, ft.errors)
			}
		})
	}
}

// TestLabelledIgnoresOthers: goroutines without this Check's label are not
// its business, whoever started them.
func TestLabelledIgnoresOthers(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	defer close(stop)
	go func() { <-stop }() // unlabelled
	if left := Labelled(strconv.Itoa(1 << 30)); len(left) != 0 {
		t.Errorf("Labelled found %d stacks for an unused label: %s", len(left), strings.Join(left, "\n"))
	}
}
