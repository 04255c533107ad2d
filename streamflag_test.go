package llmretry

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// streamsWhole is the reference: the whole body in memory, walked by topLevel.
func streamsWhole(b []byte) bool { return string(topLevel(b, "stream")) == "true" }

// streamsInPieces scans b written n bytes at a time.
func streamsInPieces(b []byte, n int) bool {
	s := streamFlag{left: int64(len(b))}
	for len(b) > 0 {
		k := min(n, len(b))
		if _, err := s.Write(b[:k]); err != nil {
			break
		}
		b = b[k:]
	}
	return s.stream
}

// modelInPieces scans b written n bytes at a time for its model: the raw
// name (as written, escapes kept), and whether there is one.
func modelInPieces(b []byte, n int) (string, bool) {
	s := streamFlag{left: int64(len(b)), models: true}
	s.model.start(maphash.MakeSeed())
	for len(b) > 0 {
		k := min(n, len(b))
		if _, err := s.Write(b[:k]); err != nil {
			break
		}
		b = b[k:]
	}
	return string(s.model.name[:min(s.model.n, modelRoom)]), s.model.has
}

// modelWhole is the reference: the last top-level "model", if a string.
func modelWhole(b []byte) (string, bool) {
	v := topLevel(b, "model")
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	return string(v[1 : len(v)-1]), true
}

func TestModelScan(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body, want string
		has        bool
	}{
		{`{"model":"gpt-4o","stream":true}`, "gpt-4o", true},
		{`{"messages":[{"model":"no"}],"model" : "m-1"}`, "m-1", true},
		{`{"model":"a","model":"b"}`, "b", true}, // the last wins
		{`{"model":"a","model":null}`, "", false},
		{`{"model":7}`, "", false},
		{`{"\u006dodel":"esc"}`, "esc", true},
		{`{"model":"a\"b\\"}`, `a\"b\\`, true},
		{`{"x":{"model":"deep"}}`, "", false},
		{`{"x":"\"model\":\"in a string\""}`, "", false},
		{`{"model":"cut`, "", false},
		{`{"modelx":"m"}`, "", false},
	} {
		for _, n := range []int{1, 2, 3, 7, 1 << 20} {
			if got, has := modelInPieces([]byte(tt.body), n); got != tt.want && tt.has || has != tt.has {
				t.Errorf("%s in %d-byte pieces: %q %v, want %q %v", tt.body, n, got, has, tt.want, tt.has)
			}
		}
	}
}

func TestStreamFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{"model":"m","stream":true}`, true},
		{` { "stream" : true , "model":"m"}`, true},
		{"{\n\t\"stream\":\ttrue\n}", true},
		{`{"model":"m","stream":false}`, false},
		{`{"model":"m"}`, false},
		{`{"stream":"true"}`, false},
		{`{"stream":truex}`, false},
		{`{"stream":tru}`, false},
		{`{"stream":{"x":true}}`, false},
		{`{"stream":[true]}`, false},
		{`{"stream":true,"stream":false}`, false}, // the last wins
		{`{"stream":false,"stream":true}`, true},
		{`{"\u0073tream":true}`, true}, // escaped name
		{`{"stream\"":true}`, false},
		{`{"x":{"stream":true}}`, false}, // not top-level
		{`{"x":[{"stream":true}],"y":1}`, false},
		{`{"x":"\"stream\":true"}`, false}, // inside a string
		{`{"x":"\\","stream":true}`, true}, // an escaped backslash ends before the quote
		{`{"messages":[{"content":"}{]["}],"stream":true}`, true},
		{`["stream",true]`, false},
		{`"stream"`, false},
		{``, false},
		{`{"stream":true`, false}, // cut before its value ends: not a stream
		{`{"a":1}{"stream":true}`, false},
		{`{"` + strings.Repeat("k", 100) + `":1,"stream":true}`, true},
	} {
		for _, n := range []int{1, 2, 3, 7, 1 << 20} {
			if got := streamsInPieces([]byte(tt.body), n); got != tt.want {
				t.Errorf("%s in %d-byte pieces: %v, want %v", tt.body, n, got, tt.want)
			}
		}
		if json.Valid([]byte(tt.body)) && streamsWhole([]byte(tt.body)) != tt.want {
			t.Errorf("%s: the reference says %v", tt.body, !tt.want)
		}
	}
}

func TestStreamFlagBound(t *testing.T) {
	t.Parallel()
	body := `{"messages":"` + strings.Repeat("x", 100) + `","stream":true}`
	get := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	if !bodyStreams(get, int64(len(body))) || bodyStreams(get, int64(len(body))-3) {
		t.Error("the bound is not kept")
	}
	// A reader without WriteTo is read through a small buffer.
	plain := func() (io.ReadCloser, error) { return io.NopCloser(struct{ io.Reader }{strings.NewReader(body)}), nil }
	if !bodyStreams(plain, 1<<20) {
		t.Error("a plain reader: not found")
	}
}

// FuzzStreamFlag holds the piecewise scan to the whole-body walk on every
// valid JSON object, in any piece size.
func FuzzStreamFlag(f *testing.F) {
	for _, s := range []string{`{"stream":true}`, `{"a":"\\\"","stream":true,"b":[{"stream":false}]}`, `{"\u0073tream":true}`} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		if !json.Valid(b) || !isJSONObject(b) {
			return
		}
		if got, want := streamsInPieces(b, int(n)+1), streamsWhole(b); got != want {
			t.Fatalf("%q in %d-byte pieces: %v, the whole body says %v", b, int(n)+1, got, want)
		}
		got, has := modelInPieces(b, int(n)+1)
		if want, wantHas := modelWhole(b); has != wantHas || has && len(want) <= modelRoom && got != want {
			t.Fatalf("%q in %d-byte pieces: model %q %v, the whole body says %q %v", b, int(n)+1, got, has, want, wantHas)
		}
	})
}

// bigStreamRequest is a 6 MiB chat request with "stream": true at its end,
// as openai-go writes it.
func bigStreamRequest() string {
	return `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("word ", 6<<20/5) + `"}],"stream":true}`
}

// Finding "stream": true must not cost the body (issue 21, item 2): with a
// 6 MiB strings.Reader body the old scan allocated 14.7 MiB per request.
func TestWantsStreamDoesNotCopyTheBody(t *testing.T) {
	body := bigStreamRequest()
	req, _ := http.NewRequest(http.MethodPost, "https://api.example/v1/chat/completions", strings.NewReader(body))
	breq, _ := http.NewRequest(http.MethodPost, "https://api.example/v1/chat/completions", bytes.NewReader([]byte(body)))
	for _, r := range []*http.Request{req, breq} {
		if !wantsStream(r, r.GetBody, defaultMaxBodyBuffer) {
			t.Fatal("not found")
		}
		allocs := testing.AllocsPerRun(5, func() { wantsStream(r, r.GetBody, defaultMaxBodyBuffer) })
		if allocs > 3 { // GetBody's reader and its NopCloser
			t.Errorf("%T: %v allocations per scan", r.Body, allocs)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 5 {
		wantsStream(req, req.GetBody, defaultMaxBodyBuffer)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 5; per > 1<<10 {
		t.Errorf("%d bytes allocated per scan of a %d-byte body", per, len(body))
	}
}

func BenchmarkWantsStream(b *testing.B) {
	body := bigStreamRequest()
	req, _ := http.NewRequest(http.MethodPost, "https://api.example/v1/chat/completions", strings.NewReader(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !wantsStream(req, req.GetBody, defaultMaxBodyBuffer) {
			b.Fatal("not found")
		}
	}
}

// wantsStream reports whether a request asks for a streamed answer, by the
// scan setup makes (acceptsStream, then scanBody over a copy from get).
func wantsStream(req *http.Request, get func() (io.ReadCloser, error), maxBody int64) bool {
	if acceptsStream(req) {
		return true
	}
	return bodyStreams(get, max(maxBody, defaultMaxBodyBuffer))
}

// bodyStreams reports whether the JSON body that get gives has a top-level
// "stream": true, reading at most limit bytes of it through scanBody.
func bodyStreams(get func() (io.ReadCloser, error), limit int64) bool {
	s := streamFlag{left: limit}
	scanBody(&s, nil, get)
	return s.stream
}
