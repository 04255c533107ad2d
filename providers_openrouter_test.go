package llmretry

import (
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func openRouterRow(doc string, status int, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("openrouter"), doc, llmretrytest.ErrorReply{Status: status}, class, retried)
}

// TestOpenRouter covers OpenRouter's "Error Codes" (openrouter.ai/docs/api-reference/errors).
func TestOpenRouter(t *testing.T) {
	t.Parallel()
	o := llmretrytest.Dialect("openrouter")
	rows := []providerRow{
		openRouterRow("400: Bad Request (invalid or missing params, CORS)", 400, ClassInvalidRequest, false),
		openRouterRow("401: Invalid credentials (OAuth session expired, disabled/invalid API key)", 401, ClassAuth, false),
		// "402: Your account or API key has insufficient credits. Add more credits and retry the request."
		{doc: "402: Your account or API key has insufficient credits.", step: o.QuotaExhausted(), class: ClassQuotaExhausted},
		// "403: Your chosen model requires moderation and your input was flagged"
		dRow(o, "403: Your chosen model requires moderation and your input was flagged", llmretrytest.ErrorReply{Status: 403, Code: "moderation",
			Message: "openai/gpt-4o requires moderation on OpenAI. Your input was flagged for \"harassment\"."}, ClassContentFiltered, false),
		openRouterRow("408: Your request timed out", 408, ClassTimeout, true),
		openRouterRow("429: You are being rate limited", 429, ClassRateLimited, true),
		// "502: Your chosen model is down or we received an invalid response from it"
		{doc: "502: Your chosen model is down", step: o.ServerError(), class: ClassModelOverloaded, retried: true},
		// "503: There is no available model provider that meets your routing requirements"
		{doc: "503: There is no available model provider that meets your routing requirements", step: o.Overloaded(0), class: ClassModelOverloaded, retried: true},
		// An upstream provider's rate limit, quoted in metadata.raw: no number, backoff.
		rawRow("429 temporarily rate-limited upstream (metadata.raw)", 429, nil,
			`{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations","provider_name":"Google AI Studio"}},"user_id":"user_2abc"}`,
			ClassRateLimited, true, 0),
		// The upstream error in metadata.raw names the wait.
		rawRow("429 metadata.raw with a wait", 429, nil,
			`{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"{\"error\":{\"message\":\"Rate limit reached. Please try again in 3s.\"}}","provider_name":"Groq"}}}`,
			ClassRateLimited, true, 3*time.Second),
	}
	runRows(t, openRouterPolicy, rows)

	// Its own limits: "Rate limit exceeded: free-models-per-min." with the reset
	// (Unix ms) in error.metadata.headers.X-RateLimit-Reset.
	t.Run("metadata.headers X-RateLimit-Reset", func(t *testing.T) {
		t.Parallel()
		tr, srv, ft := setup(t, openRouterPolicy())
		reset := ft.Now().Add(4 * time.Second).UnixMilli()
		srv.Enqueue(rawRow("", 429, nil, `{"error":{"message":"Rate limit exceeded: free-models-per-min. ","code":429,"metadata":{"headers":{"X-RateLimit-Limit":"20","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"`+
			strconv.FormatInt(reset, 10)+`"},"provider_name":null}},"user_id":"user_2abc"}`, ClassRateLimited, true, 0).step)
		if _, _, err := post(t, tr, srv.URL); err != nil {
			t.Fatal(err)
		}
		// The reset is in whole milliseconds: the wait is 4 s less the clock's sub-millisecond part.
		if w := ft.Waits(); len(w) != 1 || w[0] > 4*time.Second || w[0] <= 4*time.Second-time.Millisecond {
			t.Errorf("waits = %v, want one wait in (3.999s, 4s] (until the reset in the body)", w)
		}
	})
	// "free-models-per-day": the reset is at midnight, past MaxWait: returned at once.
	t.Run("free-models-per-day", func(t *testing.T) {
		t.Parallel()
		tr, srv, _ := setup(t, openRouterPolicy())
		reset := time.Now().Add(9 * time.Hour).UnixMilli()
		srv.Enqueue(rawRow("", 429, nil, `{"error":{"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day","code":429,"metadata":{"headers":{"X-RateLimit-Limit":"50","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"`+
			strconv.FormatInt(reset, 10)+`"},"provider_name":null}}}`, ClassRateLimited, false, 0).step)
		resp, _, err := post(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Requests()); n != 1 || resp.StatusCode != 429 {
			t.Errorf("%d attempts, status %d; want 1 attempt and the 429", n, resp.StatusCode)
		}
	})
}
