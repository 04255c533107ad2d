package llmretry

import (
	"io"
	"net/http"

	"github.com/llmretry/llmretry/internal/tokens"
)

// EstimateTokens estimates the tokens a chat or completion request will
// consume against a tokens-per-minute limit: about one token per four bytes
// of prompt text, four per message, plus max_tokens (or
// max_completion_tokens), which providers count in advance. A body that is
// not JSON counts one token per four bytes. It never returns less than 1.
// llmretrytest's token limits count requests the same way.
func EstimateTokens(body []byte) int {
	in, out := tokens.Estimate(body)
	return int(min(max(in+out, 1), tokens.Max))
}

// cost estimates the tokens of a request for the token bucket: 1 when
// tokens are not paced, so that the body is not read for nothing; costed
// says whether it was estimated.
func (p *pacer) cost(req *http.Request, body replayBody, maxBody int64) (tokens int, costed bool) {
	if !p.pacesTokens() {
		return 1, false
	}
	return p.estimate(req, body, maxBody), true
}

// paceCost is the cost of the route's next attempt: estimated once, when
// tokens are first paced (a request that began before its key learned a
// tokens limit is paced by its real cost on its retries).
func (rt *route) paceCost(t *Transport) int {
	if !rt.costed {
		rt.cost, rt.costed = rt.pacer.cost(rt.req, replayBody{get: rt.get}, t.maxBodyBuffer())
	}
	return rt.cost
}

// estimate is a request's cost in tokens: Limits.Cost's, or EstimateTokens'.
func (p *pacer) estimate(req *http.Request, body replayBody, maxBody int64) int {
	var b []byte
	if body.get != nil {
		if rc, err := body.get(); err == nil {
			b, _ = io.ReadAll(io.LimitReader(rc, max(maxBody, defaultMaxBodyBuffer)))
			rc.Close()
		}
	}
	if f := p.pol.Limits.Cost; f != nil {
		return min(max(f(req, b), 1), tokens.Max)
	}
	if b == nil && req.ContentLength > 0 {
		return int(req.ContentLength/4) + 1
	}
	return EstimateTokens(b)
}
