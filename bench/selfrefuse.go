package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// selfRefuser stands in front of a fleet's server (-fleet-selfrefuse d):
// every selfRefuseEvery-th request is refused with a bare 429 for d after
// its first attempt reaches it (a prompt too big for the tokens left,
// refused for itself while the key's other requests are taken); the rest
// go to the server.
type selfRefuser struct {
	*httptest.Server
	d       time.Duration
	mu      sync.Mutex
	first   map[int]time.Time
	refused atomic.Int64 // attempts refused here
	late    atomic.Int64 // attempts of such requests after their refusal ended
}

const selfRefuseEvery = 20

func newSelfRefuser(target string, d time.Duration) *selfRefuser {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
	s := &selfRefuser{d: d, first: map[int]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i, err := strconv.Atoi(r.Header.Get(requestHeader)); err == nil && i%selfRefuseEvery == 0 {
			now := time.Now()
			s.mu.Lock()
			f, ok := s.first[i]
			if !ok {
				f = now
				s.first[i] = now
			}
			s.mu.Unlock()
			if now.Sub(f) < d {
				s.refused.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"error":{"message":"Too many requests.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`))
				return
			}
			s.late.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	return s
}
