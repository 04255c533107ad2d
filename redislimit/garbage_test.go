package redislimit

import (
	"context"
	"errors"
	"testing"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
)

// garbageRedis answers every script with reply.
type garbageRedis struct {
	redis.Scripter // nil: only the calls a script's Run makes are answered
	reply          any
}

func (g garbageRedis) EvalSha(ctx context.Context, _ string, _ []string, _ ...any) *redis.Cmd {
	return redis.NewCmdResult(g.reply, nil)
}

func (g garbageRedis) Eval(ctx context.Context, _ string, _ []string, _ ...any) *redis.Cmd {
	return redis.NewCmdResult(g.reply, nil)
}

// A reply the reserve script cannot have given is Redis failing, not an
// answer: the request falls back (here, fail-closed, ErrUnavailable). A flag
// that is not 0 or 1 was read as "past the deadline" (ErrDeadline, the
// request failed), and a delay that is not a finite number of microseconds
// that fits a time.Duration (NaN, 1e30) wrapped to a negative one: the
// request went at once.
func TestGarbageReplyFallsBack(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply any
	}{
		{"flag as a string", []any{"1", "0", "0"}},
		{"flag 2", []any{int64(2), "0"}},
		{"NaN delay", []any{int64(1), "NaN", "0"}},
		{"infinite delay", []any{int64(1), "+Inf", "0"}},
		{"delay past any Duration", []any{int64(1), "1e30", "0"}},
		{"negative delay", []any{int64(1), "-5000000", "0"}},
		{"not a list", "OK"},
		{"empty", []any{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var told int
			l := New(garbageRedis{reply: tt.reply}, Options{FailClosed: true, OnError: func(error) { told++ }})
			err := l.Wait(context.Background(), "k", llmretry.Pace{RequestRate: 10, RequestBurst: 1}, 1)
			if !errors.Is(err, ErrUnavailable) || told != 1 {
				t.Errorf("Wait = %v (OnError told %d times), want ErrUnavailable: the reply is Redis failing", err, told)
			}
		})
	}
}
