package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/llmretry/llmretry/llmretrytest"
)

// The fallback section: one model is overloaded, another answers.
const (
	busyModel  = "gob-large"
	spareModel = "gob-small"
)

// fallbackStats is what one fallback run measured.
type fallbackStats struct {
	name       string
	ok, failed int
	byModel    map[string]int // answers by the model that gave them
	attempts   int
	streams    int // streaming answers that arrived whole
	wall       time.Duration
}

// runFallback sends n requests for busyModel, which answers GPT-Gob's 503
// horde_unavailable ("Specific model tier overloaded — try a different one")
// to a share pOverload of them, through a plain client and through llmretry
// with spareModel as its fallback. Every fourth request streams; some of the
// overloaded streams fail with an error event after their 200 instead.
func runFallback(w io.Writer, o options, obs *llmretry.Observer) {
	fmt.Fprintf(w, "\nFallback: %s answers %.0f%% of requests with 503 horde_unavailable (\"try a different one\"),\n", busyModel, 100*o.pOverload)
	fmt.Fprintf(w, "or for streams an error event before the first token; %s answers. %d requests for %s, every fourth streaming.\n\n",
		spareModel, o.nFallback, busyModel)
	plain := fallbackRun(o, "plain http.Client", func() http.RoundTripper { return &http.Transport{MaxIdleConnsPerHost: o.workers} })
	fb := fallbackRun(o, "llmretry + fallback", func() http.RoundTripper {
		p := llmretry.Provider("gptgob")
		p.Fallbacks = []llmretry.Target{{Model: spareModel}}
		return &llmretry.Transport{Base: &http.Transport{MaxIdleConnsPerHost: o.workers}, Policy: p, Observer: obs}
	})
	printFallback(w, plain, fb)
}

func fallbackRun(o options, name string, rt func() http.RoundTripper) fallbackStats {
	srv := llmretrytest.NewServer()
	defer srv.Close()
	srv.EchoModel()
	overloaded := llmretrytest.Dialect("gptgob").Overloaded(0)
	failedStream := llmretrytest.Dialect("gptgob").StreamError(llmretrytest.ErrorReply{Status: 503, Type: "service_unavailable",
		Code: "horde_unavailable", Message: "the horde is busy. try another tier."}, 0)
	srv.Respond(func(r llmretrytest.Request) llmretrytest.Step {
		if r.Model != busyModel {
			return llmretrytest.Step{}
		}
		rng := faultRand(o.seed, r) // the same faults in every run
		x, y := rng.Float64(), rng.Float64()
		switch {
		case x >= o.pOverload:
			return llmretrytest.Step{}
		case strings.Contains(r.Header.Get("Accept"), "text/event-stream") && y < 0.5:
			return failedStream
		}
		return overloaded
	})

	client := &http.Client{Transport: rt()}
	defer client.CloseIdleConnections()
	st := fallbackStats{name: name, byModel: map[string]int{}}
	var smu sync.Mutex // guards st
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(o.workers, o.nFallback) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				model, stream, ok := ask(client, srv.URL, i, i%4 == 3, o.timeout)
				smu.Lock()
				if ok {
					st.ok++
					st.byModel[model]++
					if stream {
						st.streams++
					}
				} else {
					st.failed++
				}
				smu.Unlock()
			}
		}()
	}
	for i := range o.nFallback {
		next <- i
	}
	close(next)
	wg.Wait()
	st.wall = time.Since(start)
	st.attempts = len(srv.Requests())
	return st
}

// ask sends one request for busyModel and reports which model answered, as
// the answer's own "model" field says. A stream counts only if it arrived
// whole, without an error event.
func ask(c *http.Client, url string, i int, stream bool, timeout time.Duration) (model string, streamed, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Say hello (%d)."}],"max_tokens":32,"stream":%v}`, busyModel, i, stream)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-demo-1")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", false, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", false, false
	}
	if !stream {
		var r struct{ Model string }
		if json.Unmarshal(b, &r) != nil {
			return "", false, false
		}
		return r.Model, false, true
	}
	// The first event's data names the model, unless it is an error.
	first, _, _ := strings.Cut(string(b), "\n\n")
	var ev struct {
		Model string
		Error json.RawMessage
	}
	if json.Unmarshal([]byte(strings.TrimPrefix(first, "data: ")), &ev) != nil || ev.Error != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		return "", true, false
	}
	return ev.Model, true, true
}

func printFallback(w io.Writer, runs ...fallbackStats) {
	type row = tableRow[fallbackStats]
	writeTable(w, runs, func(s fallbackStats) string { return s.name },
		row{"succeeded", func(s fallbackStats) string { return fmt.Sprint(s.ok) }},
		row{"failed", func(s fallbackStats) string { return fmt.Sprint(s.failed) }},
		row{"answered by " + busyModel, func(s fallbackStats) string { return fmt.Sprint(s.byModel[busyModel]) }},
		row{"answered by " + spareModel, func(s fallbackStats) string { return fmt.Sprint(s.byModel[spareModel]) }},
		row{"streams delivered whole", func(s fallbackStats) string { return fmt.Sprint(s.streams) }},
		row{"attempts", func(s fallbackStats) string { return fmt.Sprint(s.attempts) }},
		row{"wall time", func(s fallbackStats) string { return s.wall.Round(time.Millisecond).String() }})
}
