package llmretry

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

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

// pacingKey names a policy, host, credential and model (or "") for a
// Limiter: the credential appears only as a truncated SHA-256, the same in
// every process; the model, when the key names one, as it is written.
func pacingKey(pol *Policy, host, cred, model string) string {
	host = strings.ToLower(host)
	id := "anonymous"
	if cred != "" {
		sum := sha256.Sum256([]byte(cred))
		id = hex.EncodeToString(sum[:8])
	}
	if model == "" {
		return pol.name() + ":" + host + ":" + id
	}
	return pol.name() + ":" + host + ":" + id + ":" + model
}
