package main

import (
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// sporadic429 is a server with room to spare that refuses share percent of
// the attempts at random (failsDraw: the same ones for every client) with a
// 429 whose only hint is retry-after-ms: hintMs, and answers the others
// after delay: an upstream's overload, a shard's limit, a gateway in front
// of several backends (issue 20, attack finding 1). No limit is reached:
// the hint is each refused request's wait, and a client that paces or
// pauses the others for it loses time the server would have served.
func sporadic429(share int, hintMs string, delay time.Duration) func(*llmretrytest.Server) {
	return func(s *llmretrytest.Server) {
		s.Respond(failing(share, delay, func() llmretrytest.Step {
			st := llmretrytest.Dialect("openai").Error(llmretrytest.ErrorReply{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached."})
			st.Header.Set("Retry-After-Ms", hintMs)
			return st
		}))
	}
}
