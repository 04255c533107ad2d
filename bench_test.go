package llmretry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmretry/llmretry/llmretrytest"
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
