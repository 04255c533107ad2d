package llmretry

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Target is an alternative target for a request whose own target is
// overloaded: another model on the same API, another endpoint, or both.
// A [Policy] lists them in Policy.Fallbacks, in the order they are
// tried, and lists equivalent targets that share its load in Policy.Pool.
//
// A fallback target is sent a copy of the request; the caller's request is
// never modified. With Model set, the copy's JSON body has the value of its
// top-level "model" member replaced by Model, and every other byte kept as
// it was. With BaseURL set, the copy goes to that endpoint, without the
// credentials of the original one (see BaseURL).
//
// The answer of a fallback target reaches the caller like any answer: an SDK
// sees a normal response, whose own "model" field names the model that
// answered. [AttemptInfo].Target and [APIError].Target name the target.
type Target struct {
	// Name identifies the target in AttemptInfo.Target, APIError.Target, and
	// the name of its derived policy. If empty, Model is used, else BaseURL's
	// host.
	Name string

	// Model, if not empty, replaces the value of the top-level "model" member
	// of the request's JSON body. A request whose body is not a JSON object
	// with a string "model" member (no body, another format, a body too long
	// to buffer) cannot be sent to this target, which is then skipped; so is
	// a Model-only target for a request that already names that model.
	Model string

	// BaseURL, if not empty, sends the request to another endpoint: its
	// scheme, host and userinfo replace the request's, and its path replaces
	// the request path's StripPrefix. For example, with BaseURL
	// "https://b.example/openai/v1" and StripPrefix "/v1", a request to
	// https://a.example/v1/chat/completions?x=1 goes to
	// https://b.example/openai/v1/chat/completions?x=1. The rest of the path
	// and the query are sent as the caller wrote them, byte for byte; query
	// parameters of BaseURL come first, and win over the request's of the
	// same name. A request whose path does not start with StripPrefix skips
	// this target.
	//
	// A request sent to another endpoint loses the original endpoint's
	// credentials, in every form: the URL's userinfo, and every header,
	// trailer and query parameter (in the URL or in an opaque URL) whose
	// name looks like a secret's (Authorization, Proxy-Authorization,
	// X-Api-Key, Api-Key, X-Goog-Api-Key, Ocp-Apim-Subscription-Key, Cookie,
	// key, api_key, token, access_token, sig, code, … in any spelling) or
	// whose value holds one of those credentials (a Referer with the key in
	// its query). A request whose path holds its credential skips this
	// target. Give the endpoint its own credentials in Header or BaseURL.
	// A redirect (3xx) that the endpoint answers reaches the caller without
	// its Location header: an http.Client would follow it with the caller's
	// request, copying headers that hold the first endpoint's key.
	BaseURL     string
	StripPrefix string

	// Header is set on the request sent to this target, replacing the
	// request's values of the same names in any spelling; a name with no
	// values removes that header. Use it for the endpoint's credentials, e.g.
	// {"Authorization": {"Bearer sk-…"}}. Its values are never logged. In
	// a Pool, a target without BaseURL whose Header sets a credential (a
	// field named like one) gets none of the request's credentials, as a
	// BaseURL target does.
	Header http.Header

	// Policy is the policy for this target. If nil, the target gets a copy
	// of the policy that would apply to it anyway (the request's own policy
	// for a Model-only fallback, else the Transport's policy for BaseURL's
	// host), named "<policy>/<Name>", without fallbacks of its own. Either
	// way each target keeps its own pacing state and retry budget, and a wait
	// hint from one target never delays another.
	Policy *Policy

	// Weight is the target's share in a Policy's Pool: its headroom counts
	// Weight times when the next target is chosen, and with no limit known
	// yet, the targets share requests in proportion to their weights. Zero
	// means 1; a negative weight takes the target out of the pool. Weight
	// is not used in Fallbacks.
	Weight float64
}

// name is the target's name for hooks, errors and derived policies.
func (f *Target) name() string {
	switch {
	case f.Name != "":
		return f.Name
	case f.Model != "":
		return f.Model
	}
	if u, err := url.Parse(f.BaseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "fallback"
}

// errSkipTarget says that a request cannot be sent to a fallback target.
var errSkipTarget = errors.New("llmretry: request does not fit the fallback target")

// fallbackRequest builds the request sent to target fb: a clone of req
// (whose body is given by get; get is nil for a request without a body)
// with its model, URL and headers changed as fb says, and a body of its own.
// It returns errSkipTarget when the request cannot go to fb.
func fallbackRequest(req *http.Request, get func() (io.ReadCloser, error), maxBody int64, fb *Target) (*http.Request, func() (io.ReadCloser, error), error) {
	return targetRequest(req, get, maxBody, fb, false)
}

// targetRequest is fallbackRequest for a fallback target, or for a member of
// a pool (inPool), which may name the request's own model: a pool's targets
// are equivalent, not alternatives.
func targetRequest(req *http.Request, get func() (io.ReadCloser, error), maxBody int64, fb *Target, inPool bool) (*http.Request, func() (io.ReadCloser, error), error) {
	r := req.Clone(req.Context())
	r.Body, r.GetBody = nil, nil
	switch {
	case fb.BaseURL != "":
		if err := toEndpoint(r, req, fb); err != nil {
			return nil, nil, err
		}
	case inPool && setsCredential(fb.Header):
		// Another key for the request's endpoint: the request's own, in
		// whatever form, would be charged instead of it, or with it.
		if err := toEndpoint(r, req, &Target{BaseURL: (&url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host}).String()}); err != nil {
			return nil, nil, err
		}
		r.Host = req.Host // the request's endpoint, as written
	}
	for k, vs := range fb.Header {
		for have := range r.Header {
			if strings.EqualFold(have, k) {
				delete(r.Header, have) // in any spelling: net/http would send both
			}
		}
		if len(vs) > 0 {
			r.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
		}
	}
	if fb.Model == "" {
		r.GetBody = get
		return r, get, nil
	}
	if get == nil {
		return nil, nil, errSkipTarget
	}
	rc, err := get()
	if err != nil {
		return nil, nil, errSkipTarget
	}
	if maxBody <= 0 {
		maxBody = defaultMaxBodyBuffer
	}
	b, err := io.ReadAll(io.LimitReader(rc, maxBody+1))
	rc.Close()
	if err != nil || int64(len(b)) > maxBody {
		return nil, nil, errSkipTarget
	}
	if fb.BaseURL == "" && !inPool && modelIs(b, fb.Model) {
		return nil, nil, errSkipTarget // the same model on the same API: not an alternative
	}
	nb, ok := replaceModel(b, fb.Model)
	if !ok {
		return nil, nil, errSkipTarget
	}
	nget := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nb)), nil }
	r.GetBody, r.ContentLength = nget, int64(len(nb))
	return r, nget, nil
}

// setsCredential reports whether h sets a field named like a secret's.
func setsCredential(h http.Header) bool {
	for k := range h {
		if isSecretName(k) {
			return true
		}
	}
	return false
}

// toEndpoint points r, a clone of orig, at fb's endpoint, without orig's
// credentials: every header, trailer and query parameter named like a
// secret's (isSecretName: Authorization, X-Api-Key, Cookie, key, code, sig,
// … in any spelling), or whose value holds one of orig's secrets (a Referer
// with the key in its query), and the URL's userinfo. Then fb's URL gives
// the scheme, host, userinfo and path prefix, and its query parameters are
// added before the request's. The rest of the path and the query are kept
// byte for byte; an opaque URL ("/v1/chat?key=…", sent as written) is read
// as the path and query it stands for. A request whose path holds a secret
// cannot go.
func toEndpoint(r, orig *http.Request, fb *Target) error {
	base, err := url.Parse(fb.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return errSkipTarget
	}
	esc, query := requestTarget(r.URL)
	path, err := url.PathUnescape(esc)
	if err != nil || !hasPathPrefix(path, fb.StripPrefix) {
		return errSkipTarget
	}
	s := requestSecrets(orig)
	if s.holds(esc) {
		return errSkipTarget
	}
	query = s.withoutSecrets(query)
	stripHeaders(r.Header, s)
	stripHeaders(r.Trailer, s)

	esc = strings.TrimSuffix(base.EscapedPath(), "/") + ensureSlash(cutDecoded(esc, len(fb.StripPrefix)))
	if base.RawQuery != "" {
		query = joinQuery(base.RawQuery, query)
	}
	u := url.URL{Scheme: base.Scheme, User: base.User, Host: base.Host, RawQuery: query}
	u.Path, _ = url.PathUnescape(esc)
	u.RawPath = esc // kept as written when it is a valid encoding of Path: "%2F" stays
	r.URL, r.Host = &u, ""
	return nil
}

// hasPathPrefix reports whether path starts with the segments of prefix:
// "/v1" is a prefix of "/v1" and "/v1/chat", not of "/v1beta/models".
func hasPathPrefix(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '/' || strings.HasSuffix(prefix, "/"))
}

// requestTarget returns the escaped path and the raw query that u is sent
// with. An opaque URL is sent as written: "/v1/chat?key=…", or
// "//host/v1/chat?…" whose host is the original endpoint's.
func requestTarget(u *url.URL) (esc, query string) {
	if u.Opaque == "" {
		return u.EscapedPath(), u.RawQuery
	}
	op := u.Opaque
	if rest, ok := strings.CutPrefix(op, "//"); ok {
		op = ""
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			op = rest[i:]
		}
	}
	esc, query, _ = strings.Cut(op, "?")
	if u.RawQuery != "" {
		query = joinQuery(query, u.RawQuery) // written after the opaque part
	}
	return esc, query
}

// joinQuery joins two raw queries, first's parameters before second's; a
// parameter of second whose name is in first is dropped: first's value wins.
func joinQuery(first, second string) string {
	names := map[string]bool{}
	for rest := first; rest != ""; {
		var param string
		param, rest = nextParam(rest, "&;")
		name, _, _ := strings.Cut(param, "=")
		names[paramName(name)] = true
	}
	second = filterParams(second, func(_, name string) bool { return names[paramName(name)] })
	switch {
	case first == "":
		return second
	case second == "":
		return first
	}
	return first + "&" + second
}

// paramName is a query parameter's name as a server reads it.
func paramName(name string) string {
	if n, err := url.QueryUnescape(name); err == nil {
		return n
	}
	return name
}

// cutDecoded returns the escaped path esc after the bytes that decode to its
// first n bytes.
func cutDecoded(esc string, n int) string {
	i := 0
	for ; n > 0 && i < len(esc); n-- {
		if esc[i] == '%' && i+3 <= len(esc) {
			i += 3
		} else {
			i++
		}
	}
	return esc[i:]
}

func ensureSlash(p string) string {
	if p == "" || p[0] == '/' {
		return p
	}
	return "/" + p
}

// stripHeaders removes from h every field named like a secret's, and every
// field whose name or a value of which holds one of s (a token may hold a
// key's first bytes, "X-Sk-Live+Abc").
func stripHeaders(h http.Header, s secrets) {
	for k, vs := range h {
		if isSecretName(k) || s.holds(k) || slices.ContainsFunc(vs, s.holds) {
			delete(h, k)
		}
	}
}

// derivedID names the derived policy of one fallback of a policy.
type derivedID struct {
	pol *Policy
	i   int
}

// fallbackPolicy returns the policy for fallback i of pol, sent as r.
func (t *Transport) fallbackPolicy(pol *Policy, i int, r *http.Request) *Policy {
	return t.targetPolicy(pol, &pol.Fallbacks[i], derivedID{pol, i}, r)
}

// targetPolicy returns the policy for target fb of pol, named by id, sent
// as r.
func (t *Transport) targetPolicy(pol *Policy, fb *Target, id derivedID, r *http.Request) *Policy {
	if fb.Policy != nil {
		return fb.Policy
	}
	if p, ok := t.derived.load(id); ok {
		return p
	}
	d := t.derivePolicy(pol, fb, r)
	return t.derived.loadOrStore(id, func() *Policy { return d }, nil, time.Time{}) // a policy per fallback: never stale
}

// derivePolicy makes the policy of target fb of pol, which has none, sent
// as r: the policy of its endpoint, or pol, without fallbacks or pool.
func (t *Transport) derivePolicy(pol *Policy, fb *Target, r *http.Request) *Policy {
	base := pol
	if fb.BaseURL != "" {
		base = t.policyFor(r, requestOptions{})
	}
	d := base.Clone()
	d.Name = base.name() + "/" + fb.name()
	d.Fallbacks, d.FallbackOnRateLimit, d.FallbackOnExhausted, d.Pool = nil, false, false, nil
	return d
}
