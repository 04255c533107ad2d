package llmretry

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryablehttpCheckRetry returns a retryablehttp.CheckRetry that decides with policy p
// (nil means [Provider]("generic")), for users of retryablehttp.Client who want this
// package's classification without its Transport:
//
//	c := retryablehttp.NewClient()
//	c.CheckRetry = llmretry.RetryablehttpCheckRetry(llmretry.Provider("openai"))
//	c.Backoff = llmretry.RetryablehttpBackoff(llmretry.Provider("openai"))
//
// The response body stays readable in full after the check.
func RetryablehttpCheckRetry(p *Policy) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err() // cancellation is final
		}
		v := p.Classify(resp, err)
		return v.Retryable, nil
	}
}

// RetryablehttpBackoff returns a retryablehttp.Backoff that waits as the server asks
// (Retry-After, retry-after-ms, the body's retry_after, reset headers, the
// message) when it does, and otherwise as policy p's backoff says. The
// client's RetryWaitMin and RetryWaitMax are ignored in favour of p's
// BaseDelay and MaxDelay; a hint is capped at p's MaxWait, except a reset
// longer than it, which is ignored for the backoff.
func RetryablehttpBackoff(p *Policy) retryablehttp.Backoff {
	return func(_, _ time.Duration, attemptNum int, resp *http.Response) time.Duration {
		if resp != nil {
			// A reset past MaxWait is a counter's claim, not a wait asked
			// for (see call.farReset): the backoff decides.
			if v := p.Classify(resp, nil); v.hinted() && !(v.Hint == hintReset && v.RetryAfter > p.maxWait() && p.maxWait() > 0) {
				return min(v.RetryAfter, p.maxWait())
			}
		}
		return p.backoff(attemptNum+1, randFloat())
	}
}
