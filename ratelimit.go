package llmretry

import (
	"context"
	"net/http"
	"time"
)

// Limits configures client-side pacing for a policy.
type Limits struct{}

// pacerSet holds the pacers of a Transport, keyed by policy and credential.
type pacerSet struct{}

type pacer struct{}

func (s *pacerSet) get(p *Policy, req *http.Request) *pacer { return nil }

func (p *pacer) wait(ctx context.Context, req *http.Request, now time.Time) error { return nil }

func (p *pacer) observe(resp *http.Response, v Verdict, now time.Time) {}
