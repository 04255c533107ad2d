package llmretry

import (
	"context"
	"fmt"
)

// limiterWait waits for the key's Limiter. A shared Limiter (redislimit)
// reserves each request's turn as it calls, first come first served: once
// requests on the key carry a priority or a tenant, they call it one at a
// time, in the order of the key's local queue (priority, share, tenant), so
// that within this process a higher priority reserves next. The in-memory
// limiter orders its own queue and is called at once.
func (p *pacer) limiterWait(ctx context.Context, lim Pace, tokens int) error {
	unpaced := lim.RequestRate <= 0 && lim.TokenRate <= 0
	g := p.gate.Load()
	if g == nil && !unpaced {
		if _, mem := p.limiter.(*MemoryLimiter); !mem && ordered(ctx) {
			p.gate.CompareAndSwap(nil, newSlots(1, defaultMinShare))
			g = p.gate.Load()
		}
	}
	if g == nil || unpaced {
		return p.limiter.Wait(ctx, p.key, lim, tokens) // nothing to order
	}
	if !g.tryAcquire() {
		if err := p.passGate(ctx, g); err != nil {
			return err
		}
	}
	defer g.release()
	return p.limiter.Wait(ctx, p.key, lim, tokens)
}

// ordered reports whether ctx gives its request a place in an ordered queue.
func ordered(ctx context.Context) bool {
	o := optionsFrom(ctx)
	return o.hasPriority || o.tenant != ""
}

// passGate waits for g within ctx's deadline, which a deadlineCtx (the
// learned pace's steps) does not enforce by itself: a wait that reaches it
// fails with ErrDeadline, as a Limiter's would.
func (p *pacer) passGate(ctx context.Context, g *slots) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		return g.acquire(ctx)
	}
	d := deadline.Sub(p.clock())
	if d <= 0 {
		return fmt.Errorf("%w (the key's queue)", ErrDeadline)
	}
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		p.wait(gctx, d)
		cancel()
	}()
	err := g.acquire(gctx)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w (the key's queue)", ErrDeadline)
	}
	return err
}
