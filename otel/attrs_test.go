package llmretryotel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/llmretry/llmretry"
)

func TestMethod(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want, orig string
	}{
		{"POST", "POST", ""},
		{"GET", "GET", ""},
		{"", "GET", ""},
		{"PATCH", "PATCH", ""},
		{"post", "POST", "post"},
		{"PROPFIND", "_OTHER", "PROPFIND"},
		{"propfind", "_OTHER", "propfind"},
	} {
		m, orig, has := method(c.in)
		if m.Value.AsString() != c.want || has != (c.orig != "") || (has && orig.Value.AsString() != c.orig) {
			t.Errorf("method(%q) = %v, %v, %v; want %q, original %q", c.in, m.Value.AsString(), orig.Value.AsString(), has, c.want, c.orig)
		}
	}
}

func TestServer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		scheme, host, want string
		port               int
	}{
		{"https", "api.openai.com", "api.openai.com", 0},
		{"https", "api.openai.com:443", "api.openai.com", 0},
		{"http", "127.0.0.1:80", "127.0.0.1", 0},
		{"http", "127.0.0.1:8080", "127.0.0.1", 8080},
		{"https", "[::1]:8443", "::1", 8443},
		{"https", "", "", 0},
	} {
		if host, port := server(c.scheme, c.host); host != c.want || port != c.port {
			t.Errorf("server(%q, %q) = %q, %d; want %q, %d", c.scheme, c.host, host, port, c.want, c.port)
		}
	}
}

func TestErrorType(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    llmretry.Verdict
		want string
	}{
		{llmretry.Verdict{Class: llmretry.ClassOK, Status: 200}, ""},
		{llmretry.Verdict{Class: llmretry.ClassRateLimited, Status: 429}, "429"},
		{llmretry.Verdict{Class: llmretry.ClassServerError, Status: 500}, "500"},
		{llmretry.Verdict{Class: llmretry.ClassTimeout, Err: errors.New("timeout")}, "timeout"},
		{llmretry.Verdict{Class: llmretry.ClassConnection, Err: errors.New("reset")}, "connection"},
	} {
		if got := errorType(c.v); got != c.want {
			t.Errorf("errorType(%v %d) = %q, want %q", c.v.Class, c.v.Status, got, c.want)
		}
	}
	for err, want := range map[error]string{
		fmt.Errorf("%w (needs 1m)", llmretry.ErrDeadline): "pacing_deadline",
		context.Canceled:                          "canceled",
		context.DeadlineExceeded:                  "deadline_exceeded",
		errors.New("the limiter's store is down"): "_OTHER",
	} {
		if got := pacingErrorType(err); got != want {
			t.Errorf("pacingErrorType(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789"
	r := &http.Request{Header: http.Header{}, URL: &url.URL{RawQuery: "key=goog-QUERYKEY&alt=sse"}}
	r.Header.Set("Authorization", "Bearer "+key)
	r.Header.Set("X-Goog-Api-Key", "AIzaHEADERKEY")
	for in, want := range map[string]string{
		"bad key " + key:              "bad key [redacted]",
		"Bearer " + key:               "Bearer [redacted]",
		"AIzaHEADERKEY":               "[redacted]",
		"key goog-QUERYKEY rejected":  "key [redacted] rejected",
		"alt sse is fine (too short)": "alt sse is fine (too short)",
		"invalid utf-8 \xff":          "invalid utf-8 ",
	} {
		if got := scrub(in, r, 512); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
	if got := scrub("0123456789", r, 4); got != "0123" {
		t.Errorf("scrub bounds to %q, want 0123", got)
	}
}

func TestScrubRedactsBeforeCutting(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := &http.Request{Header: http.Header{"Authorization": {"Bearer " + key}}, URL: &url.URL{}}
	msg := "0123456789 " + key // the bound falls inside the key
	if got := scrub(msg, r, 20); got != "0123456789 [redacted" {
		t.Errorf("scrub = %q, want the key redacted, then the cut", got)
	}
}
