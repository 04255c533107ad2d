package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// progress reports a run's progress: a live line on a terminal, a plain line
// at every tenth otherwise.
type progress struct {
	name     string
	total    int
	terminal bool
}

func newProgress(name string, total int) *progress {
	fi, err := os.Stdout.Stat()
	return &progress{name: name, total: total, terminal: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}

// start reports until the returned func is called.
func (p *progress) start(done, failed *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		lastTenth := -1
		for {
			select {
			case <-quit:
				p.print(done.Load(), failed.Load(), true)
				return
			case <-tick.C:
				d, f := done.Load(), failed.Load()
				if p.terminal {
					p.print(d, f, false)
				} else if tenth := int(d * 10 / int64(p.total)); tenth > lastTenth && tenth < 10 {
					lastTenth = tenth
					p.print(d, f, false)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

func (p *progress) print(done, failed int64, final bool) {
	line := fmt.Sprintf("%-18s %4d/%d done, %d failed", p.name, done, p.total, failed)
	switch {
	case p.terminal && final:
		fmt.Printf("\r%s\033[K\n", line)
	case p.terminal:
		fmt.Printf("\r%s\033[K", line)
	default:
		fmt.Println(line)
	}
}
