package llmretry

import "context"

// WithPriority returns a context that gives a request made with it priority
// p when it waits for its key's pacing: a higher priority is released
// first, whatever waited longer. The default is the Policy's Priority (0
// unless set). A lower priority is not starved: while higher ones keep the
// key busy, each lower one waiting still gets a small share of the limit
// (see [MemoryLimiter].MinShare). It orders the waiters of the key's
// in-flight cap (Limits.MaxInFlight) too.
//
// Priorities order the waiters of one process: a shared [Limiter] (the
// redislimit module) is called in this order, but does not order the
// processes among themselves.
func WithPriority(ctx context.Context, p int) context.Context {
	return withOptions(ctx, func(o *requestOptions) { o.priority, o.hasPriority = p, true })
}

// WithTenant returns a context that makes a request made with it wait for
// its key's pacing as one of tenant's: among the waiters of one priority,
// each tenant gets an equal share of the limit, counted in the limit's own
// unit (tokens when tokens are paced, else requests), so that a tenant
// sending many or large requests does not crowd out the others (and of the
// key's in-flight cap, Limits.MaxInFlight, in requests). Requests without a
// tenant share the tenant "". A tenant names a share, not a credential: use
// any stable string (a user or a job id); it is never logged.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return withOptions(ctx, func(o *requestOptions) { o.tenant = tenant })
}
