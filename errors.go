package llmretry

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrDeadline is returned, wrapped, when a client-side pacing wait cannot end
// before the request context's deadline: the request is failed at once
// instead of sleeping into a certain timeout. Test with errors.Is.
var ErrDeadline = errors.New("llmretry: pacing wait would pass the context deadline")

// errAttemptTimeout is the cause of an attempt context cancelled by the
// attempt timeout, as opposed to the caller's own context.
var errAttemptTimeout = errors.New("llmretry: attempt timed out")

// APIError is an error response from an LLM API, with the facts that a caller
// acts on. Use errors.As to get one from an error returned through an
// http.Client when [Transport].ReturnErrors is set, or build one from a
// response with [ParseError]. It never holds credential values.
type APIError struct {
	Provider   string // the policy's name, e.g. "gptgob"
	Target     string // the fallback target that gave the answer (its Target name); "" for the request's own
	StatusCode int
	Class      Class
	Retryable  bool   // whether the last answer was worth retrying
	Type       string // error type from the body
	Code       string // error code from the body
	Param      string // parameter at fault, if named
	Message    string // the body's message (at most 1 KiB)
	RequestID  string // X-Request-Id or similar

	// RetryAfter is the server's wait hint on the last answer, 0 if none.
	RetryAfter time.Duration

	// Attempts is how many attempts were made; 0 when unknown (ParseError).
	Attempts int
}

// Error describes the failure in one line, e.g.
// "llmretry: gptgob: 429 rate_limited (rate_limit_exceeded/gremlin_in_the_pipes): come back in 12s [request req_1] after 3 attempts".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("llmretry: ")
	b.WriteString(e.Provider)
	if e.Target != "" && !strings.HasSuffix(e.Provider, "/"+e.Target) {
		b.WriteString(" (")
		b.WriteString(e.Target)
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	b.WriteByte(' ')
	b.WriteString(e.Class.String())
	if e.Type != "" || e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Type)
		if e.Type != "" && e.Code != "" && e.Code != e.Type {
			b.WriteByte('/')
			b.WriteString(e.Code)
		} else if e.Type == "" {
			b.WriteString(e.Code)
		}
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	if e.Attempts > 1 {
		b.WriteString(" after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts")
	}
	return b.String()
}

// ParseError classifies resp with policy p (nil means [Generic]) and returns
// it as an *APIError, or nil if resp is not an error response (status < 400).
// It does not consume the body: the caller can still read all of it.
// Credential values of resp.Request's headers are redacted from the message.
func ParseError(resp *http.Response, p *Policy) *APIError {
	if resp == nil || resp.StatusCode < 400 {
		return nil
	}
	v := p.Classify(resp, nil)
	if resp.Request != nil {
		v.Message = redact(v.Message, resp.Request.Header)
	}
	return newAPIError(p, v, 0)
}

func newAPIError(p *Policy, v Verdict, attempts int) *APIError {
	return &APIError{
		Provider:   p.name(),
		StatusCode: v.Status,
		Class:      v.Class,
		Retryable:  v.Retryable,
		Type:       v.Type,
		Code:       v.Code,
		Param:      v.Param,
		Message:    v.Message,
		RequestID:  v.RequestID,
		RetryAfter: v.RetryAfter,
		Attempts:   attempts,
	}
}

// credentialHeaders are request headers whose values are secrets.
var credentialHeaders = [...]string{"Authorization", "X-Api-Key", "Api-Key", "Proxy-Authorization", "X-Goog-Api-Key"}

// redact removes the values of h's credential headers from s. Some APIs echo
// the key they rejected in the message; it must not reach logs or errors.
func redact(s string, h http.Header) string {
	if s == "" {
		return s
	}
	for _, name := range credentialHeaders {
		for _, v := range h.Values(name) {
			secret := v
			if i := strings.IndexByte(v, ' '); i >= 0 { // "Bearer sk-…"
				secret = strings.TrimSpace(v[i+1:])
			}
			if len(secret) >= 4 && strings.Contains(s, secret) {
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
	}
	return s
}
