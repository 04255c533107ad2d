package llmretry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
	"golang.org/x/time/rate"
)

// BenchmarkRoundTrip measures the 2xx path of RoundTrip against the bare
// http.Transport underneath it, on loopback, in the same run:
//
//	go test -run '^$' -bench RoundTrip -benchmem -count 10 . | benchstat -col /rt -
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, llmretrytest.Completion)
	}))
	defer srv.Close()
	url := srv.URL + "/v1/chat/completions"

	for _, tc := range []struct {
		name string
		wrap func(http.RoundTripper) http.RoundTripper
	}{
		{"rt=bare", func(base http.RoundTripper) http.RoundTripper { return base }},
		{"rt=llmretry", func(base http.RoundTripper) http.RoundTripper { return &Transport{Base: base} }},
		// A pool of three keys on the same endpoint: what a pool adds per
		// request (a route per target, its request clone and headers).
		{"rt=pool3", func(base http.RoundTripper) http.RoundTripper {
			pol := &Policy{Name: "bench-pool"}
			for _, k := range []string{"sk-a", "sk-b", "sk-c"} {
				pol.Pool = append(pol.Pool, Target{Name: k, Header: http.Header{"Authorization": {"Bearer " + k}}})
			}
			return &Transport{Base: base, Policy: pol}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			base := &http.Transport{MaxIdleConnsPerHost: 64}
			defer base.CloseIdleConnections()
			rt := tc.wrap(base)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(chatBody))
				req.Header.Set("Authorization", "Bearer sk-bench")
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkPacer compares a paced request's bookkeeping with a bare
// rate.Limiter, from parallel goroutines, with limits high enough that
// nobody sleeps: what is measured is the cost of the locks and buckets.
func BenchmarkPacer(b *testing.B) {
	ctx := context.Background()
	const r, burst = 1e12, 1 << 30
	b.Run("impl=rate.Limiter", func(b *testing.B) {
		lim := rate.NewLimiter(r, burst)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := lim.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("impl=MemoryLimiter", func(b *testing.B) {
		var m MemoryLimiter
		lim := Pace{RequestRate: r, RequestBurst: burst, TokenRate: r, TokenBurst: burst}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := m.Wait(ctx, "k", lim, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("impl=pacer", func(b *testing.B) {
		pol := &Policy{Limits: Limits{RequestsPerMinute: r, RequestBurst: burst, TokensPerMinute: r, TokenBurst: burst}}
		p := newPacer(pol, "k", &MemoryLimiter{}, nil)
		resp := &http.Response{StatusCode: 200, Header: http.Header{}}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.acquire(ctx, 100, time.Now()); err != nil {
					b.Fatal(err)
				}
				p.observe(ctx, resp, Verdict{Status: 200}, p.send(ctx, time.Now(), 1, false), time.Now())
			}
		})
	})
	b.Run("impl=pacer-inflight", func(b *testing.B) { // a slot taken and given back, nobody waiting
		pol := &Policy{Limits: Limits{RequestsPerMinute: r, RequestBurst: burst, MaxInFlight: 1 << 20}}
		p := newPacer(pol, "k", &MemoryLimiter{}, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.acquire(ctx, 1, time.Now()); err != nil {
					b.Fatal(err)
				}
				p.release()
			}
		})
	})
}
