package llmretry

import (
	"context"
	"math/rand/v2"
	"time"
)

// seams are the clock, the timer and the random source of a Transport, which
// its MemoryLimiter and its pacers share by pointer (see pacerSet.get), so
// that one fake clock set by a test moves them all. The tests set them (setup
// in helpers_test.go); never package variables, so every test can run in
// parallel. A nil func, or a nil *seams (a MemoryLimiter's zero value), means
// the real one.
type seams struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64
}

// clock is the time now.
func (s *seams) clock() time.Time {
	if s != nil && s.now != nil {
		return s.now()
	}
	return time.Now()
}

// random is a number in [0, 1), for jitter.
func (s *seams) random() float64 {
	if s != nil && s.rand != nil {
		return s.rand()
	}
	return randFloat()
}

// randFloat is the goroutine-safe random source of math/rand/v2.
func randFloat() float64 { return rand.Float64() }

// wait sleeps for d or until ctx is done, whichever is first.
func (s *seams) wait(ctx context.Context, d time.Duration) error {
	if s != nil && s.sleep != nil {
		return s.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
