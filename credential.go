package llmretry

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"net/http"
	"strings"
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

// credential returns the request's API credential, or "". Headers set with
// Header.Set are canonical, so direct lookups find them without Get's
// canonicalization; keys set by hand in another case are found by a scan.
func credential(h http.Header) string {
	for _, name := range credentialHeaders {
		if v := header(h, name); v != "" {
			return v
		}
	}
	for k, vs := range h {
		for _, name := range credentialHeaders {
			if len(vs) > 0 && vs[0] != "" && strings.EqualFold(k, name) {
				return vs[0]
			}
		}
	}
	return ""
}

// queryCredential returns the value of the first query parameter named like
// a key or token (key=, api-key=, access_token=…), as written, or "". Some
// APIs take the key in the URL (Gemini's ?key=), and keys told apart only by
// it must not share one pacing state. It allocates nothing.
func queryCredential(raw string) string {
	for raw != "" {
		var pair string
		pair, raw = nextParam(raw, "&;")
		if name, value, ok := strings.Cut(pair, "="); ok && value != "" && isSecretParam(name) {
			return value
		}
	}
	return ""
}

// header is h.Get for a key already in canonical form: a plain map lookup,
// without Get's canonicalization, which costs more than the lookup on every
// response. Response headers parsed by net/http are stored canonically.
func header(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
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
		s.mem.now, s.mem.sleep = t.clock, t.wait
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
		p := newPacer(pol, pacingKey(pol, host, cred), &s.mem, s.seams.clock, s.seams.wait)
		p.phase = s.seams.random()
		return p
	},
		func(p *pacer) bool { return p.idle(now) }, now)
}

// pacingKey names a policy, host and credential for a Limiter: the
// credential appears only as a truncated SHA-256, the same in every process.
func pacingKey(pol *Policy, host, cred string) string {
	host = strings.ToLower(host)
	if cred == "" {
		return pol.name() + ":" + host + ":anonymous"
	}
	sum := sha256.Sum256([]byte(cred))
	return pol.name() + ":" + host + ":" + hex.EncodeToString(sum[:8])
}
