package llmretry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

// TestAttack3ParseErrorStop reads a final answer's APIError through
// ParseError in the ways an SDK may hold the response, and checks that
// Error() never shows either endpoint's key.
func TestAttack3ParseErrorStop(t *testing.T) {
	leakcheck.Check(t)
	const key1, key2 = "sk-first-0123456789abcdef", "sk-second-0123456789abcdef"
	echo := func(status int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(status)
			io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"overloaded for `+r.Header.Get("Authorization")+" "+r.URL.RawQuery+`"}}`)
		}))
	}
	a, b := echo(529), echo(529)
	defer a.Close()
	defer b.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	pol := &Policy{Name: "p", MaxRetries: 0, Fallbacks: []Target{{
		BaseURL: strings.Replace(b.URL, "http://", "http://u:"+key2+"@", 1) + "/v1?api_key=" + key2, StripPrefix: "/v1",
		Header: http.Header{"Authorization": {"Bearer " + key2}},
	}}}
	tr := &Transport{Base: base, Policy: pol}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", a.URL+"/v1/chat?key="+key1, strings.NewReader(`{"model":"m"}`))
	req.Header.Set("Authorization", "Bearer "+key1)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	check := func(name string, e *APIError) {
		t.Helper()
		if e == nil {
			t.Fatalf("%s: no APIError", name)
		}
		msg := strings.ToLower(e.Error() + e.Provider + e.Target + e.Message)
		for _, k := range []string{key1, key2, key1[:12], key2[:12]} {
			if strings.Contains(msg, k) {
				t.Errorf("%s: %q holds %q", name, msg, k)
			}
		}
	}
	e := ParseError(resp, nil)
	check("attached", e)
	if e.Decision != DecisionFallbacksExhausted || e.Attempts < 2 {
		t.Errorf("Stop %v after %d attempts, want fallbacks_exhausted after 2 or more: %v", e.Decision, e.Attempts, e)
	}
	// A second ParseError gives an equal, separate copy.
	e2 := ParseError(resp, genericPolicy())
	e2.Message = "changed"
	if ParseError(resp, nil).Message == "changed" {
		t.Error("ParseError returns the attached APIError itself, not a copy")
	}
	// After the body is read, and on a copy of the response.
	body, _ := io.ReadAll(resp.Body)
	check("after the body was read", ParseError(resp, nil))
	cp := *resp
	cp.Body = io.NopCloser(strings.NewReader(string(body)))
	check("copy", ParseError(&cp, nil))
}

// TestAttack3ParseErrorStreamWithoutRequest: a Base that answers without
// setting Response.Request (a test double, a hand-made RoundTripper) and a
// 200 stream whose first event is an error: the final answer still carries
// the Transport's APIError for ParseError, as an error status does.
func TestAttack3ParseErrorStreamWithoutRequest(t *testing.T) {
	leakcheck.Check(t)
	for _, status := range []int{200, 503} {
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
			body := `data: {"error":{"type":"server_error","message":"boom"}}` + "\n\n"
			ct := "text/event-stream"
			if status != 200 {
				body, ct = `{"error":{"type":"server_error","message":"boom"}}`, "application/json"
			}
			return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}}, ContentLength: -1,
				Body: io.NopCloser(strings.NewReader(body))}, nil
		})
		tr := &Transport{Base: base, Policy: &Policy{Name: "p", MaxRetries: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
		req, _ := http.NewRequest("POST", "https://a.example/v1/chat", strings.NewReader(`{"model":"m","stream":true}`))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		e := ParseError(resp, nil)
		resp.Body.Close()
		if e == nil || e.Decision != DecisionRetriesExhausted || e.Attempts != 2 {
			t.Errorf("status %d: ParseError = %v, want the Transport's APIError, retries exhausted after 2 attempts", status, e)
		}
	}
}
