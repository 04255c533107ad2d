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
	if e.Stop != StopFallbacksExhausted || e.Attempts < 2 {
		t.Errorf("Stop %v after %d attempts, want fallbacks_exhausted after 2 or more: %v", e.Stop, e.Attempts, e)
	}
	// A second ParseError gives an equal, separate copy.
	e2 := ParseError(resp, Generic())
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
