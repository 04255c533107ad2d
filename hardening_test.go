package llmretry

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// pattern is an endless, cheap, checkable byte stream.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte('a' + (p.n+int64(i))%26)
	}
	p.n += int64(len(b))
	return len(b), nil
}

// TestMemoryBoundedOnHostileBodies: whatever an error body holds, RoundTrip
// allocates a bounded amount, and the caller still reads the body it would
// have read without us.
func TestMemoryBoundedOnHostileBodies(t *testing.T) {
	const hundredMB = 100 << 20
	tests := []struct {
		name   string
		status int
		size   int64 // -1: never ends
		prefix string
	}{
		{"100 MB error body", 400, hundredMB, `{"error":{"message":"`},
		{"never-ending error body", 400, -1, `{"error":{"message":"`},
		{"deeply nested JSON", 400, 1 << 20, strings.Repeat(`{"error":`, 100000)},
		{"huge JSON number", 400, 1 << 20, `{"error":{"code":1`},
		{"never-ending 503s, retried", 503, -1, `{"error":{"code":"overloaded_error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				var body io.Reader = io.MultiReader(strings.NewReader(tt.prefix), &pattern{})
				if tt.size >= 0 {
					body = io.LimitReader(body, tt.size)
				}
				io.Copy(w, body)
			}))
			defer srv.Close()
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			attempts := 0
			tr := &Transport{Base: base, Policy: &Policy{Backoff: func(int) time.Duration { return time.Millisecond }},
				Observer: onAttempt(func(AttemptInfo) { attempts++ })}
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(chatBody))

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, err := tr.RoundTrip(req)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("RoundTrip allocated %d KiB in %d attempts", allocated>>10, attempts)
			if bound := uint64(attempts) * 512 << 10; allocated > bound {
				t.Errorf("RoundTrip allocated %d KiB in %d attempts, want < 512 KiB an attempt whatever the body", allocated>>10, attempts)
			}

			want := sha256.New()
			var expect io.Reader = io.MultiReader(strings.NewReader(tt.prefix), &pattern{})
			got := sha256.New()
			if tt.size >= 0 {
				io.Copy(want, io.LimitReader(expect, tt.size))
				n, err := io.Copy(got, resp.Body)
				if err != nil || n != tt.size {
					t.Fatalf("caller read %d bytes (%v), want %d", n, err, tt.size)
				}
			} else { // read 8 MiB of the endless body
				io.Copy(want, io.LimitReader(expect, 8<<20))
				io.Copy(got, io.LimitReader(resp.Body, 8<<20))
			}
			if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
				t.Error("the caller's body differs from what the server sent")
			}
		})
	}
}
