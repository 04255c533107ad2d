package llmretrytest

import "github.com/llmretry/llmretry/internal/tokens"

// RequestTokens estimates a chat or completion request body's tokens
// exactly as the client's llmretry.EstimateTokens does, so that a client
// pacing by its own estimate can be exact: in is the prompt, about one token
// per four bytes of prompt text plus four per message; out is max_tokens (or
// max_completion_tokens), which providers reserve before generating ("we
// estimate the total tokens … by estimating the input tokens in your prompt,
// adding either the max_completion_tokens parameter or …": Cerebras). A body
// that is not JSON counts one token per four bytes, plus one, as in.
//
// A Tokens quota counts in+out (at least 1), InputTokens in, OutputTokens
// out; [Request].Tokens is in+out.
func RequestTokens(body []byte) (in, out int) {
	i, o := tokens.Estimate(body)
	return int(i), int(o)
}

// cost is what a request counts against quotas.
type cost struct{ in, out int }

// total is in + out, at least 1.
func (c cost) total() int { return max(c.in+c.out, 1) }

func (c cost) of(u Unit) int {
	switch u {
	case Tokens:
		return c.total()
	case InputTokens:
		return c.in
	case OutputTokens:
		return c.out
	}
	return 1
}

func requestCost(body []byte) cost {
	in, out := RequestTokens(body)
	return cost{in, out}
}
