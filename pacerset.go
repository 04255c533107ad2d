package llmretry

import (
	"hash/maphash"
	"net/http"
	"sync"
	"time"
)

// pacerIdle is how long a key's pacing state is kept without a request: a
// key idle for longer is forgotten, so that a Transport serving ever new
// API keys keeps state only for those used recently. It is longer than any
// pause (MaxWait) and than the life of a learned limit (learnedTTL).
const pacerIdle = 10 * time.Minute

// pacerSet holds a Transport's pacers, one per policy, host and credential.
type pacerSet struct {
	initOnce sync.Once
	seed     maphash.Seed
	mem      MemoryLimiter // the buckets of policies without a Limiter
	seams    *seams        // the Transport's clock, timer and random source (each pacer's phase)
	m        lazyMap[pacerID, pacer]
}

type pacerID struct {
	pol *Policy
	sum uint64 // maphash of host and credential: never the credential
}

// get returns the pacer for the request's policy, host and credential, or
// nil if the policy has none (never: even with DisableLearning, a server's
// pause applies to every request on the key).
func (s *pacerSet) get(t *Transport, pol *Policy, req *http.Request) *pacer {
	if pol == nil {
		return nil
	}
	s.initOnce.Do(func() {
		s.seed = maphash.MakeSeed()
		s.seams = &t.seams
		s.mem.seams = &t.seams
	})
	cred := credential(req.Header)
	if cred == "" && req.URL.RawQuery != "" {
		cred = queryCredential(req.URL.RawQuery) // Gemini's and Azure's ?key=
	}
	host := req.URL.Host
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(host)
	h.WriteByte(0)
	h.WriteString(cred)
	id := pacerID{pol: pol, sum: h.Sum64()}
	if p, ok := s.m.load(id); ok {
		return p
	}
	now := s.seams.clock()
	return s.m.loadOrStore(id, func() *pacer {
		p := newPacer(pol, pacingKey(pol, host, cred), &s.mem, s.seams)
		p.phase = s.seams.random()
		return p
	},
		func(p *pacer) bool { return p.idle(now) }, now)
}
