package llmretry

import "strings"

// hostRoutes routes host names to policies: exact names by map lookup, and
// patterns with one "*" (standing for one DNS label or part of one) checked
// in order only when no exact name matches, so exact lookups cost what a map
// lookup costs. Patterns: "*.openai.azure.com", "bedrock-runtime.*.amazonaws.com",
// "*-aiplatform.googleapis.com".
type hostRoutes struct {
	exact map[string]*Policy
	wild  []wildRoute
}

// wildRoute is one pattern, split at its "*".
type wildRoute struct {
	prefix, suffix string
	policy         *Policy
}

// newHostRoutes splits m into exact names and patterns. Keys are matched
// case-insensitively; nil policies are skipped.
func newHostRoutes(m map[string]*Policy) hostRoutes {
	r := hostRoutes{exact: make(map[string]*Policy, len(m))}
	for k, p := range m {
		if p == nil {
			continue
		}
		k = strings.ToLower(k)
		if prefix, suffix, ok := strings.Cut(k, "*"); ok {
			if !strings.Contains(suffix, "*") {
				r.wild = append(r.wild, wildRoute{prefix, suffix, p})
			}
			continue
		}
		r.exact[k] = p
	}
	// Longest pattern first: the most specific one wins, whatever the map order.
	for i := 1; i < len(r.wild); i++ {
		for j := i; j > 0 && wildLess(r.wild[j], r.wild[j-1]); j-- {
			r.wild[j], r.wild[j-1] = r.wild[j-1], r.wild[j]
		}
	}
	return r
}

func wildLess(a, b wildRoute) bool {
	if la, lb := len(a.prefix)+len(a.suffix), len(b.prefix)+len(b.suffix); la != lb {
		return la > lb
	}
	return a.prefix+"*"+a.suffix < b.prefix+"*"+b.suffix
}

// lookup returns the policy for a lower-case host name.
func (r *hostRoutes) lookup(host string) (*Policy, bool) {
	if p, ok := r.exact[host]; ok {
		return p, true
	}
	return r.match(host)
}

// match checks the patterns only.
func (r *hostRoutes) match(host string) (*Policy, bool) {
	for i := range r.wild {
		w := &r.wild[i]
		if len(host) > len(w.prefix)+len(w.suffix) && strings.HasPrefix(host, w.prefix) && strings.HasSuffix(host, w.suffix) &&
			strings.IndexByte(host[len(w.prefix):len(host)-len(w.suffix)], '.') < 0 {
			return w.policy, true
		}
	}
	return nil, false
}
