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
// tokens are not paced, so that the body is not read for nothing.
func (p *pacer) cost(req *http.Request, body replayBody, maxBody int64) int {
	if !p.pacesTokens() {
		return 1
	}
	var b []byte
	if body.get != nil {
		if rc, err := body.get(); err == nil {
			b, _ = io.ReadAll(io.LimitReader(rc, max(maxBody, DefaultMaxBodyBuffer)))
			rc.Close()
		}
	}
	if f := p.pol.Limits.Cost; f != nil {
		return max(f(req, b), 1)
	}
	if b == nil && req.ContentLength > 0 {
		return int(req.ContentLength/4) + 1
	}
	return EstimateTokens(b)
}
