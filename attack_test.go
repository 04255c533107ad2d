package llmretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestContentLengthLiesAreRequestErrors: a request whose ContentLength does
// not match its body (declared larger, smaller, or set with no body at all)
// fails in net/http by its own fault, over HTTP/1 and HTTP/2: it is not
// retried, and it spends no retry budget.
func TestContentLengthLiesAreRequestErrors(t *testing.T) {
	t.Parallel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(503) // never a success: only the request's fault ends the attempt
	})
	h1 := httptest.NewServer(handler)
	t.Cleanup(h1.Close)
	h2 := httptest.NewUnstartedServer(handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	tests := []struct {
		name     string
		srv      *httptest.Server
		cl       int64
		getBody  bool // else the body is buffered
		nilBody  bool
		wantText string
	}{
		{"http/1 declared larger", h1, 1000, true, false, "ContentLength=1000"},
		{"http/1 declared smaller", h1, 10, true, false, "ContentLength=10"},
		{"http/1 declared larger, buffered", h1, 1000, false, false, "ContentLength=1000"},
		{"http/1 declared smaller, buffered", h1, 10, false, false, "ContentLength=10"},
		{"http/1 length without body", h1, 10, false, true, "ContentLength=10 with nil Body"},
		{"http/2 declared smaller", h2, 10, true, false, "larger than specified content length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := tt.srv.Client().Transport.(*http.Transport).Clone()
			defer base.CloseIdleConnections()
			var decisions []Decision
			var classes []Class
			tr := &Transport{Base: base, Policy: &Policy{Backoff: func(int) time.Duration { return 0 }},
				Observer: onAttempt(func(a AttemptInfo) {
					decisions, classes = append(decisions, a.Decision), append(classes, a.Verdict.Class)
				})}
			var body io.Reader = strings.NewReader(chatBody)
			if !tt.getBody {
				body = &failingReader{n: len(chatBody), err: io.EOF} // no GetBody: buffered
			}
			req, _ := http.NewRequest(http.MethodPost, tt.srv.URL+"/v1", body)
			if tt.nilBody {
				req.Body, req.GetBody = nil, nil
			}
			req.ContentLength = tt.cl
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got %d, want the request's error", resp.StatusCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %v, want it to say %q", err, tt.wantText)
			}
			if len(decisions) != 1 || decisions[0] != DecisionNotRetryable || classes[0] != ClassInvalidRequest {
				t.Errorf("decisions %v classes %v, want one not_retryable invalid_request attempt", decisions, classes)
			}
		})
	}
}

// TestBufferingErrorIsRedacted: the error of a request body that fails while
// it is buffered is redacted like every other error: a reader whose error
// quotes the request's key does not leak it.
func TestBufferingErrorIsRedacted(t *testing.T) {
	t.Parallel()
	tr := &Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("the request was sent")
		return nil, errors.New("no")
	})}
	boom := fmt.Errorf("upload with key %s failed", leakSecret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A context that cannot end has the body read at once; one that can, on another goroutine.
	for _, ctx := range []context.Context{context.Background(), ctx} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.example.com/v1", io.NopCloser(&failingReader{n: 10, err: boom}))
		req.Header.Set("X-Api-Key", leakSecret)
		_, err := tr.RoundTrip(req)
		if err == nil || strings.Contains(err.Error(), leakSecret[8:]) || !errors.Is(err, boom) {
			t.Errorf("err = %v, want the reader's error, redacted", err)
		}
	}
}

// TestNestedTransports: a Transport under another (an SDK's client that
// already retries, wrapped once more) keeps both in-flight caps and attempt
// timers working: closing each body frees the slots of both, so requests
// one after another never wait for a slot.
func TestNestedTransports(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	pol := func() *Policy {
		return &Policy{AttemptTimeout: 5 * time.Second, Limits: Limits{MaxInFlight: 1, DisableLearning: true}}
	}
	inner := &Transport{Base: base, Policy: pol()}
	outer := &Transport{Base: inner, Policy: pol()}
	for i := 0; i < 4; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1", strings.NewReader(chatBody))
		resp, body, err := do(t, outer, req)
		cancel()
		if err != nil {
			t.Fatalf("request %d: %v (a slot of a closed body was never freed)", i, err)
		}
		if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
}

// TestHTTP2RequestErrors: the headers and paths that HTTP/2 forbids
// (connection-specific headers, which HTTP/1 sends, and a path that does
// not start with "/") make net/http fail the request before it is sent: they are the
// request's error, not retried, and what they quote is redacted.
func TestHTTP2RequestErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(503)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	tests := []struct {
		name string
		mod  func(r *http.Request)
	}{
		{"Connection", func(r *http.Request) { r.Header.Set("Connection", "keep-alive, Upgrade") }},
		{"Upgrade", func(r *http.Request) { r.Header.Set("Upgrade", "websocket") }},
		{"Transfer-Encoding", func(r *http.Request) { r.Header.Set("Transfer-Encoding", "gzip") }},
		{"opaque path", func(r *http.Request) {
			r.URL = &url.URL{Scheme: "https", Host: host, Opaque: "v1?key=" + url.QueryEscape(leakSecret)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := srv.Client().Transport.(*http.Transport).Clone()
			defer base.CloseIdleConnections()
			var decisions []Decision
			var classes []Class
			tr := &Transport{Base: base, Policy: &Policy{Backoff: func(int) time.Duration { return 0 }},
				Observer: onAttempt(func(a AttemptInfo) {
					decisions, classes = append(decisions, a.Decision), append(classes, a.Verdict.Class)
				})}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1", strings.NewReader(chatBody))
			tt.mod(req)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got %d, want the request's error", resp.StatusCode)
			}
			if strings.Contains(err.Error(), leakSecret[8:16]) {
				t.Errorf("err = %v: leaks the key", err)
			}
			if len(decisions) != 1 || decisions[0] != DecisionNotRetryable || classes[0] != ClassInvalidRequest {
				t.Errorf("err = %v: decisions %v classes %v, want one not_retryable invalid_request attempt", err, decisions, classes)
			}
		})
	}
}
