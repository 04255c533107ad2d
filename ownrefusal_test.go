package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// On a key paced by the fleet's estimate, a bare 429 does not cut it while
// the key's retries sent after an accepted attempt are refused again far
// more often than its share of 429s makes likely (ownRefusals): the server
// refuses those requests for themselves, and their first 429s too say
// nothing of the pace. Each such request's first 429 cut a zero-config
// fleet's estimate (bench fleet on redislimit, every 20th request refused
// for 1.5 s, 4 processes, 10 retries: 2.16–2.23× where openai-go took
// 1.43–1.67×). Retries the server takes (a limit's 429s, whose requests go
// through at the cut pace), or others refused as often as the retries (a
// limit the pace overruns), keep every 429 cutting, as before.
func TestOwnRefusalsStopCuttingTheFleetsEstimate(t *testing.T) {
	t.Parallel()
	const requests = 8
	for _, tc := range []struct {
		name          string
		refused       int // 429s of each request before its 200
		ok, bad       int // other requests, accepted and refused, during each of its backoffs
		minTold, told int // Refused calls: at least, at most
	}{
		// Each request refused three times, 9 others accepted during each
		// backoff (the key's share of 429s about a tenth): the first two
		// requests' first two 429s cut (their third is ownRefusal's), and
		// the third's first; by then the tally holds 5 retries refused
		// again of 7, and none cuts. Before ownRefusals: 2 of each
		// request's, 16.
		{"requests refused for themselves", 3, 9, 0, 5, 5},
		// Each request's retry accepted: every first 429 cuts.
		{"retries accepted", 1, 9, 0, requests, requests},
		// Others refused as often as the retries (the key's share of 429s
		// a half): every 429 cuts.
		{"others refused as often", 3, 1, 1, requests * 6, requests * 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft, fleet := fleetSetup(t, tc.refused) // backoffs of 50–200 ms: the tally holds 3 requests or more
			for range requests {
				for range tc.refused {
					srv.Enqueue(llmretrytest.Step{Status: 429})
					for range tc.ok {
						srv.Enqueue(llmretrytest.Step{})
					}
					for range tc.bad {
						srv.Enqueue(llmretrytest.Step{Status: 429})
					}
				}
				srv.Enqueue(llmretrytest.Step{})
			}
			tr.seams.sleep = backoffSleeps(ft, 10*time.Millisecond, func(int) {
				for range tc.ok + tc.bad {
					postOnce(t, tr, srv.URL)
				}
			})
			for i := range requests {
				resp, _, err := post(t, tr, srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("request %d: status %d, want 200 (attempt %d)", i, resp.StatusCode, tc.refused+1)
				}
			}
			if _, r := fleet.told(); r < tc.minTold || r > tc.told {
				t.Errorf("the fleet's estimate cut %d times, want %d to %d", r, tc.minTold, tc.told)
			}
		})
	}
}
