package llmretry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// BenchmarkStream measures a normal streaming answer through the Transport
// against the bare http.Transport underneath it, on loopback, in the same
// run: ttfb-ns is the time from sending the request to the caller's first
// byte of the body, and allocs/op counts the whole request. The server holds
// the rest of the stream back until the caller has its first byte, as a
// model does between tokens, so that ttfb-ns is the first event's alone.
//
//	go test -run '^$' -bench Stream -benchmem -count 10 . | benchstat -col /rt -
func BenchmarkStream(b *testing.B) {
	first := llmretrytest.Stream[:strings.Index(llmretrytest.Stream, "\n\n")+2]
	rest := llmretrytest.Stream[len(first):]
	gotFirst := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		io.WriteString(w, first)
		f.Flush()
		select {
		case <-gotFirst:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, rest)
	}))
	defer srv.Close()
	url := srv.URL + "/v1/chat/completions"

	for _, tc := range []struct {
		name string
		wrap func(http.RoundTripper) http.RoundTripper
	}{
		{"rt=bare", func(base http.RoundTripper) http.RoundTripper { return base }},
		{"rt=llmretry", func(base http.RoundTripper) http.RoundTripper { return &Transport{Base: base} }},
		{"rt=llmretry-ttft", func(base http.RoundTripper) http.RoundTripper {
			return &Transport{Base: base, Policy: &Policy{FirstTokenTimeout: time.Minute}}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			base := &http.Transport{MaxIdleConnsPerHost: 64}
			defer base.CloseIdleConnections()
			rt := tc.wrap(base)
			buf := make([]byte, 32<<10)
			var ttfb time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(streamReqBody))
				req.Header.Set("Authorization", "Bearer sk-bench")
				start := time.Now()
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := resp.Body.Read(buf[:1]); err != nil {
					b.Fatal(err)
				}
				ttfb += time.Since(start)
				gotFirst <- struct{}{}
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						break
					}
				}
				resp.Body.Close()
			}
			b.ReportMetric(float64(ttfb.Nanoseconds())/float64(b.N), "ttfb-ns")
		})
	}
}

// BenchmarkStreamTTFBPaired sends each iteration's stream once through the
// bare http.Transport and once through the Transport, alternating, so that
// both see the same machine load; it reports each one's mean time to first
// byte and their ratio. (On a shared machine, back-to-back sub-benchmarks
// drift apart by more than the difference measured.)
func BenchmarkStreamTTFBPaired(b *testing.B) {
	first := llmretrytest.Stream[:strings.Index(llmretrytest.Stream, "\n\n")+2]
	rest := llmretrytest.Stream[len(first):]
	gotFirst := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, first)
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, rest)
	}))
	defer srv.Close()
	url := srv.URL + "/v1/chat/completions"
	bareBase := &http.Transport{MaxIdleConnsPerHost: 64}
	defer bareBase.CloseIdleConnections()
	wrappedBase := &http.Transport{MaxIdleConnsPerHost: 64}
	defer wrappedBase.CloseIdleConnections()
	rts := [2]http.RoundTripper{bareBase, &Transport{Base: wrappedBase}}
	var ttfb [2]time.Duration
	buf := make([]byte, 32<<10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range rts {
			k := (k + i) % 2 // alternate which goes first
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(streamReqBody))
			start := time.Now()
			resp, err := rts[k].RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := resp.Body.Read(buf[:1]); err != nil {
				b.Fatal(err)
			}
			ttfb[k] += time.Since(start)
			gotFirst <- struct{}{}
			for {
				if _, err := resp.Body.Read(buf); err != nil {
					break
				}
			}
			resp.Body.Close()
		}
	}
	b.ReportMetric(float64(ttfb[0].Nanoseconds())/float64(b.N), "bare-ttfb-ns")
	b.ReportMetric(float64(ttfb[1].Nanoseconds())/float64(b.N), "llmretry-ttfb-ns")
	b.ReportMetric(float64(ttfb[1])/float64(ttfb[0]), "ttfb-ratio")
}
