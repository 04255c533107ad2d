package llmretrytest

import "github.com/llmretry/llmretry/internal/tokens"

// Cost is what a request counts against token quotas: the prompt's tokens
// and the max_tokens the provider reserves for the answer ("we estimate the
// total tokens … by estimating the input tokens in your prompt, adding
// either the max_completion_tokens parameter or …": Cerebras).
type Cost struct{ Input, Output int }

// Total is Input + Output, at least 1.
func (c Cost) Total() int { return max(c.Input+c.Output, 1) }

func (c Cost) of(u Unit) int {
	switch u {
	case Tokens:
		return c.Total()
	case InputTokens:
		return c.Input
	case OutputTokens:
		return c.Output
	}
	return 1
}

// RequestCost estimates a chat or completion request body's tokens exactly
// as the client's llmretry.EstimateTokens does (so that a client pacing by
// its own estimate can be exact): about one token per four bytes of prompt
// text, four per message, plus max_tokens (or max_completion_tokens). A body
// that is not JSON counts one token per four bytes, plus one.
func RequestCost(body []byte) Cost {
	in, out := tokens.Estimate(body)
	return Cost{Input: int(in), Output: int(out)}
}
