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

// pacerSet holds a Transport's pacers, one per policy, host, credential
// and, under a policy that configures no limit, model.
type pacerSet struct {
	initOnce sync.Once
	seed     maphash.Seed
	mem      MemoryLimiter // the buckets of policies without a Limiter
	seams    *seams        // the Transport's clock, timer and random source (each pacer's phase)
	m        lazyMap[pacerID, pacer]
}

type pacerID struct {
	pol   *Policy
	sum   uint64 // maphash of host and credential: never the credential
	model uint64 // maphash of the model's name (see modelScan); 0: none
}

// init makes the set ready on first use, and returns its hash seed.
func (s *pacerSet) init(t *Transport) maphash.Seed {
	s.initOnce.Do(func() {
		s.seed = maphash.MakeSeed()
		s.seams = &t.seams
		s.mem.seams = &t.seams
	})
	return s.seed
}

// get returns the pacer for the request's policy, host, credential and
// model (nil: the key names no model; see Policy.pacesPerModel), or nil if
// the policy has none (never: even with DisableLearning, a server's pause
// applies to every request on the key). model's hash must be seeded with
// the set's seed (init's).
func (s *pacerSet) get(t *Transport, pol *Policy, req *http.Request, model *modelScan) *pacer {
	if pol == nil {
		return nil
	}
	s.init(t)
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
	if model != nil && model.has {
		id.model = model.hash.Sum64()
	}
	if p, ok := s.m.load(id); ok {
		return p
	}
	var name string
	if id.model != 0 {
		name = model.String()
	}
	now := s.seams.clock()
	return s.m.loadOrStore(id, func() *pacer {
		p := newPacer(pol, pacingKey(pol, host, cred, name), &s.mem, s.seams)
		p.phase = s.seams.random()
		return p
	},
		func(p *pacer) bool { return p.idle(now) }, now)
}
