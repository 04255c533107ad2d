package llmretry

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

// TestAttack3FallbackConcurrentCancel runs a herd through an overloaded
// target and its fallback, both capped at 2 requests in flight, cancels
// requests at random points (before the send, during the fallback's body),
// reads some fallback bodies after RoundTrip returned, and then checks that
// every slot came back: 2 more requests per target go at once.
func TestAttack3FallbackConcurrentCancel(t *testing.T) {
	leakcheck.Check(t)
	overloaded := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(529)
		io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	}))
	defer overloaded.Close()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for i := 0; i < 20; i++ {
			io.WriteString(w, strings.Repeat("x", 512))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	defer ok.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	pol := &Policy{
		Name:       "attack",
		MaxRetries: 1,
		Limits:     Limits{MaxInFlight: 2},
		Fallbacks:  []Target{{Name: "fb", BaseURL: ok.URL + "/v1", StripPrefix: "/v1", Header: http.Header{"Authorization": {"Bearer fb-key-123456789"}}}},
	}
	tr := &Transport{Base: base, Policy: pol}
	send := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", overloaded.URL+"/v1/chat", strings.NewReader(`{"model":"m"}`))
		req.Header.Set("Authorization", "Bearer first-key-123456789")
		return tr.RoundTrip(req)
	}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if i%3 == 0 {
				go func() {
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					cancel()
				}()
			}
			resp, err := send(ctx)
			if err != nil {
				return
			}
			if i%4 == 1 {
				io.ReadAll(io.LimitReader(resp.Body, 100)) // half read, then closed
			} else if i%4 == 2 {
				cancel()
				io.ReadAll(resp.Body)
			} else {
				io.ReadAll(resp.Body)
			}
			resp.Body.Close()
		}(i)
	}
	wg.Wait()
	// Every slot must be back: two requests held open at once on the
	// fallback's key, within a generous bound that always holds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var bodies []io.Closer
	for i := 0; i < 2; i++ {
		resp, err := send(ctx)
		if err != nil {
			t.Fatalf("request %d after the herd: %v (a slot was not given back)", i, err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("request %d after the herd: status %d", i, resp.StatusCode)
		}
		bodies = append(bodies, resp.Body)
	}
	for _, b := range bodies {
		b.Close()
	}
}

// TestAttack3FallbackRedirectKeepsKeys: an endpoint target that answers a
// redirect must not get the first endpoint's key by it. http.Client follows
// a redirect with the caller's request, whose headers it copies; across
// hosts it drops Authorization and Cookie, but not X-Api-Key, Api-Key or
// X-Goog-Api-Key.
func TestAttack3FallbackRedirectKeepsKeys(t *testing.T) {
	leakcheck.Check(t)
	const key = "sk-ant-first-endpoint-0123456789"
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(529)
		io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	}))
	defer a.Close()
	var mu sync.Mutex
	var seen []string
	var b *httptest.Server
	b = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		for k, vs := range r.Header {
			seen = append(seen, k+": "+strings.Join(vs, ","))
		}
		seen = append(seen, r.URL.String())
		mu.Unlock()
		if r.URL.Path != "/next" {
			for _, code := range []int{307} {
				w.Header().Set("Location", b.URL+"/next")
				w.WriteHeader(code)
				return
			}
		}
		io.WriteString(w, `{}`)
	}))
	defer b.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	pol := &Policy{Name: "p", Fallbacks: []Target{{BaseURL: b.URL, Header: http.Header{"X-Api-Key": {"backup-key-0123456789"}}}}}
	client := &http.Client{Transport: &Transport{Base: base, Policy: pol}}
	for _, h := range []string{"X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Ocp-Apim-Subscription-Key"} {
		req, _ := http.NewRequest("POST", a.URL+"/v1/messages?key="+key, strings.NewReader(`{"model":"m"}`))
		req.Header.Set(h, key)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if strings.Contains(strings.ToLower(s), key[:16]) {
			t.Errorf("the fallback endpoint got the first endpoint's key: %s", s)
		}
	}
}
