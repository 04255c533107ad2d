package main

import (
	"fmt"
	"os"
	"time"
)

func debugPool(start time.Time, r poolRun) {
	if os.Getenv("POOLDEBUG") == "" {
		return
	}
	for b := 0; b < 20; b++ {
		fmt.Printf("%4.1fs", float64(b)/2)
		for i, log := range r.logs {
			ok := 0
			for _, q := range log {
				d := q.Time.Sub(start)
				if q.Status == 200 && d >= time.Duration(b)*500*time.Millisecond && d < time.Duration(b+1)*500*time.Millisecond {
					ok++
				}
			}
			fmt.Printf("  t%d %3d", i, ok)
		}
		fmt.Println()
	}
}
