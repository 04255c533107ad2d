package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// runWorkers runs a worker process for each spec, all at once, and returns
// the requests they got answered in all and when the last one finished.
func runWorkers(specs []workerSpec) (ok int, end time.Time, err error) {
	results := make([]workerResult, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for k, ws := range specs {
		arg, _ := json.Marshal(ws)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command(os.Args[0], "-worker", string(arg)).Output()
			if err != nil {
				errs[k] = fmt.Errorf("worker %d: %w", k, err)
				return
			}
			errs[k] = json.Unmarshal(out, &results[k])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, time.Time{}, err
	}
	for _, r := range results {
		ok += r.OK
		if e := time.Unix(0, r.EndUnixNano); e.After(end) {
			end = e
		}
	}
	return ok, end, nil
}
