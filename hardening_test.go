package llmretry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
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
				OnAttempt: func(AttemptInfo) { attempts++ }}
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

// TestNoCredentialLeaks sends requests with an API key through every failure
// class and checks that the key appears in no error, log line or hook event.
func TestNoCredentialLeaks(t *testing.T) {
	const secret = "sk-live-S3CR3T-0123456789abcdef"
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // connection refused from now on

	srv := llmretrytest.Start(t)
	echo := "Incorrect API key provided: " + secret + ". You can find your API key at https://example.com."
	steps := map[string][]llmretrytest.Step{
		"auth, key echoed":    {llmretrytest.OpenAI.Error(llmretrytest.ErrorReply{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: echo})},
		"rate limit echoed":   {llmretrytest.OpenAI.Error(llmretrytest.ErrorReply{Status: 429, Code: "rate_limit_exceeded", Message: echo})},
		"quota":               {llmretrytest.GPTGob.Quota()},
		"server errors":       {llmretrytest.OpenAI.ServerError(), llmretrytest.OpenAI.ServerError(), llmretrytest.OpenAI.ServerError()},
		"overload":            {llmretrytest.Cencori.Overloaded(0), llmretrytest.Cencori.Overloaded(0), llmretrytest.Cencori.Overloaded(0)},
		"resets":              {{Reset: true}, {Reset: true}, {Reset: true}},
		"slow headers":        {{Delay: time.Second}, {Delay: time.Second}, {Delay: time.Second}},
		"content filter":      {llmretrytest.Cencori.Error(llmretrytest.ErrorReply{Status: 403, Code: "SECURITY_VIOLATION", Message: echo})},
		"context length":      {llmretrytest.SambaNova.Error(llmretrytest.ErrorReply{Status: 400, Code: "context_length_exceeded", Message: echo})},
		"connection refused:": nil,
	}
	var logs bytes.Buffer
	var hooks []string
	for name, script := range steps {
		for _, header := range []string{"Authorization", "X-Api-Key"} {
			srv.Enqueue(script...)
			url := srv.URL + "/v1/chat/completions?key=" + secret
			if script == nil {
				url = deadURL + "/v1?key=" + secret
			}
			tr := &Transport{
				Policy:       &Policy{AttemptTimeout: 20 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond }},
				ReturnErrors: true,
				Logger:       slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				OnAttempt: func(a AttemptInfo) {
					a.Context = nil // the hook sees the context; its values are the caller's own
					hooks = append(hooks, fmt.Sprintf("%+v %v", a, a.Verdict.Err))
				},
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(chatBody))
			value := secret
			if header == "Authorization" {
				value = "Bearer " + secret
			}
			req.Header.Set(header, value)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s (%s): error leaks the key: %v", name, header, err)
				}
			} else {
				resp.Body.Close()
			}
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("a log line leaks the key:\n%s", logs.String())
	}
	for _, h := range hooks {
		if strings.Contains(h, secret) {
			t.Errorf("a hook event leaks the key: %s", h)
		}
	}
	if logs.Len() == 0 || len(hooks) < len(steps) {
		t.Fatalf("nothing was logged or hooked (%d bytes, %d events): the test checks nothing", logs.Len(), len(hooks))
	}
}
