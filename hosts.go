package llmretry

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
)

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
// case-insensitively and without a trailing dot; nil policies are skipped
// (checkHosts reports them),
// and so are keys that are not host names (see hostKey).
func newHostRoutes(m map[string]*Policy) hostRoutes {
	r := hostRoutes{exact: make(map[string]*Policy, len(m))}
	for k, p := range m {
		if p == nil {
			continue
		}
		k, err := hostKey(k)
		if err != nil {
			continue
		}
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

// hostKey normalizes a Hosts key to what a request's host is matched as:
// lower case, without a trailing dot, an IPv6 address without brackets. A
// key that could never match a host name — one with a scheme, a path, user
// information or a port — is an error that names it: a key matches its host
// on every port.
func hostKey(k string) (string, error) {
	bad := func(why string) error {
		if i := strings.LastIndexByte(k, '@'); i >= 0 { // never quote a password
			k = "…" + k[i:]
		}
		return fmt.Errorf("Transport.Hosts key %q %s; keys are host names, as in \"api.openai.com\" or \"*.openai.azure.com\"", k, why)
	}
	h := strings.TrimSuffix(strings.ToLower(k), ".")
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	switch {
	case h == "":
		return "", bad("is empty")
	case strings.Contains(h, "://"):
		return "", bad("has a scheme")
	case strings.ContainsAny(h, "/?#"):
		return "", bad("has a path")
	case strings.Contains(h, "@"):
		return "", bad("has user information")
	case strings.ContainsAny(h, " \t\r\n"):
		return "", bad("has white space")
	case strings.Contains(h, ":") && net.ParseIP(zoneless(h)) == nil:
		return "", bad("has a port (a key matches its host on every port)")
	case strings.Count(h, "*") > 1:
		return "", bad("has more than one * (a * stands for one label or part of one)")
	case strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, ".."):
		return "", bad("has an empty label (no host name starts with a dot)")
	}
	return h, nil
}

// zoneless is an IPv6 address without its zone ("fe80::1%eth0"), which
// net.ParseIP does not take.
func zoneless(h string) string {
	if i := strings.IndexByte(h, '%'); i >= 0 {
		return h[:i]
	}
	return h
}

// checkHosts returns the first Hosts key that is not a host name, as an
// error, or two keys that name the same host with different policies.
func checkHosts(m map[string]*Policy) error {
	keys := slices.Sorted(maps.Keys(m)) // the same error whatever the map order
	seen := make(map[string]string, len(m))
	for _, k := range keys {
		p := m[k]
		if p == nil {
			return fmt.Errorf("Transport.Hosts[%q] is a nil *Policy (an unknown name given to Provider?)", k)
		}
		h, err := hostKey(k)
		if err != nil {
			return err
		}
		if other, ok := seen[h]; ok && m[other] != p {
			return fmt.Errorf("Transport.Hosts keys %q and %q name the same host with different policies", other, k)
		}
		seen[h] = k
	}
	return nil
}

// policyFor picks the request's policy: the context's, the Hosts entry for
// its host, Policy, a built-in provider's, or the generic one.
func (t *Transport) policyFor(req *http.Request, o requestOptions) *Policy {
	if o.policy != nil {
		return o.policy
	}
	host := req.URL.Hostname()
	lower := strings.TrimSuffix(strings.ToLower(host), ".") // "API.openai.com." is api.openai.com
	t.once.Do(t.init)
	if p, ok := t.user.lookup(lower); ok {
		return p
	}
	if t.Policy != nil {
		return t.Policy
	}
	if p, ok := t.builtins.lookup(lower); ok {
		return p
	}
	return t.generic
}

func (t *Transport) init() {
	t.user = newHostRoutes(t.Hosts)
	t.hostsErr = checkHosts(t.Hosts)
	if t.Policy == nil { // the built-in routes apply only without a Policy
		t.generic = genericPolicy()
		t.builtins = newHostRoutes(DefaultHosts())
	}
}
