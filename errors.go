package llmretry

import (
	"context"
	"errors"
	"net/http"
	"net/url"
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

// APIError is what the caller gets when a [Transport] stops on an error
// response: the last attempt's [Verdict] (what that attempt got: Class,
// Status, Code, Message, RetryAfter, …), and where and why the Transport
// stopped (Provider, Target, Attempts, Decision). Use errors.As to get one
// from an error returned through an http.Client when [Transport].ReturnErrors
// is set, or from a response with [ParseError] (under an SDK). It never holds
// credential values.
//
// Retryable and Decision answer two questions: Retryable, whether the answer
// is transient (the same request may succeed later); Decision, whether and
// why the Transport did not retry it (again). A 429 whose Retry-After is
// over MaxWait is Retryable, with Decision [DecisionHintTooLong]: the
// Transport chose not to wait that long, and the caller may.
type APIError struct {
	Verdict // the last attempt's; Message at most 1 KiB

	Provider string // the policy's name, e.g. "gptgob"
	Target   string // the fallback or pool target that gave the answer (its Target name); "" for the request's own

	// Attempts is how many attempts were made, on every target; 0 when
	// unknown (ParseError of a response that no Transport returned).
	Attempts int

	// Decision is the decision that ended the call with this answer: why
	// the Transport stopped, which Error() says in words. It is never
	// DecisionSuccess or DecisionRetry on an APIError from a Transport;
	// DecisionSuccess, the zero value, means unknown: the APIError did not
	// come from a Transport ([ParseError] of another client's response).
	Decision Decision

	why stop // the figures behind Decision, for Error()
}

// Error describes the failure and why it was not retried in one line, e.g.
// "llmretry: gptgob: 429 rate_limited (rate_limit_exceeded/gremlin_in_the_pipes): come back in 3m0s [request req_1]: not retried: server asked for 3m0s, over MaxWait 2m0s".
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
	b.WriteString(strconv.Itoa(e.Status))
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
	e.writeStop(&b)
	return b.String()
}

// ParseError classifies resp with policy p (nil means [Provider]("generic")) and returns
// it as an *APIError, or nil if resp is not an error response (status < 400).
// It does not consume the body: the caller can still read all of it.
// The credentials of resp.Request (headers, URL userinfo and query) are
// redacted from every field.
//
// A final error response that a [Transport] returned (without ReturnErrors,
// as under an SDK) carries the Transport's own APIError: ParseError returns a
// copy of it, whatever p, with Attempts and Decision (why the Transport stopped).
// This is how to learn why retrying stopped from an SDK's error, through the
// response it keeps, e.g. with openai-go:
//
//	var oe *openai.Error
//	if errors.As(err, &oe) {
//		e := llmretry.ParseError(oe.Response, nil)
//		log.Print(e) // "llmretry: openai: 429 rate_limited (…): not retried: server asked for 3m0s, over MaxWait 2m0s"
//	}
func ParseError(resp *http.Response, p *Policy) *APIError {
	if e := attachedError(resp); e != nil {
		c := *e
		return &c
	}
	if resp == nil || resp.StatusCode < 400 {
		return nil
	}
	return newAPIError(p, p.Classify(resp, nil), 0)
}

// errorKey is the context key of the APIError attached to a response.
type errorKey struct{}

// attached is the value under errorKey: the APIError of resp. A context
// that outlives its response (a caller may make its next request with it)
// carries the value on, so it counts only for the response it was made for.
type attached struct {
	resp *http.Response
	err  *APIError
}

// attachError attaches e to resp, for ParseError: in the context of a copy
// of resp.Request, since an SDK keeps the *http.Response it got (and may
// replace its body), and the Request of a response is the one thing of it
// that can carry a value.
func attachError(resp *http.Response, e *APIError) {
	r := resp.Request
	if r == nil {
		return
	}
	resp.Request = r.WithContext(context.WithValue(r.Context(), errorKey{}, &attached{resp: resp, err: e}))
}

// attachedError is the APIError attached to resp, or nil.
func attachedError(resp *http.Response) *APIError {
	if resp == nil || resp.Request == nil {
		return nil
	}
	if a, ok := resp.Request.Context().Value(errorKey{}).(*attached); ok && a.resp == resp {
		return a.err
	}
	return nil
}

func newAPIError(p *Policy, v Verdict, attempts int) *APIError {
	v.rate = nil // read by the Transport; not kept with the error
	return &APIError{Verdict: v, Provider: p.name(), Attempts: attempts}
}

// requestError is a failure of the request itself, the caller's and not the
// network's: an invalid request, or a body that could not be read. No retry
// can help it.
type requestError struct {
	msg string
	err error // the cause, if any
}

func (e *requestError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *requestError) Unwrap() error { return e.err }

// redactErr returns err with the secrets removed from its message, or err
// itself if its message holds none. errors.Is and errors.As still reach the
// original chain; a top-level *url.Error stays a *url.Error, its URL redacted.
func redactErr(err error, s secrets) error {
	if err == nil || len(s) == 0 {
		return err
	}
	msg := err.Error()
	clean := s.redact(msg)
	if clean == msg {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: s.redact(ue.URL), Err: redactErr(ue.Err, s)}
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError is an error whose message had a credential in it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
func (e *redactedError) Timeout() bool { return isTimeout(e.err) }

// retriedError is the last attempt's error when retries end on a transport
// error: its message says how many attempts were made, over how long, and
// why the Transport stopped.
type retriedError struct {
	attempts int
	elapsed  time.Duration
	why      string // why the Transport stopped, in words; "" if it goes without saying
	err      error
}

func (e *retriedError) Error() string {
	msg := "llmretry: not retried"
	if e.attempts > 1 {
		msg = "llmretry: gave up after " + strconv.Itoa(e.attempts) + " attempts in " + e.elapsed.Round(time.Millisecond).String()
	}
	if e.why != "" {
		msg += ": " + e.why
	}
	return msg + ": " + e.err.Error()
}

func (e *retriedError) Unwrap() error { return e.err }

// Timeout reports whether the last attempt timed out, as net.Error does:
// http.Client's *url.Error asks its Err directly, without errors.As.
func (e *retriedError) Timeout() bool { return isTimeout(e.err) }

// afterRetries wraps the last attempt's error err with the count of attempts,
// the time they took and why the Transport stopped (r, with the figures of
// s), keeping a top-level *url.Error one. The error of a single attempt that
// was not retried because it could not be (a permanent error, a context that
// ended, MaxRetries 0) is returned as it is.
func afterRetries(err error, attempts int, elapsed time.Duration, r Decision, s *stop) error {
	if err == nil {
		return err
	}
	var why string
	switch r {
	case DecisionSuccess, DecisionNotRetryable, DecisionContextDone: // the error says it
	default:
		why = s.text(r)
	}
	if attempts <= 1 && (why == "" || r == DecisionRetriesExhausted) {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: ue.URL, Err: &retriedError{attempts: attempts, elapsed: elapsed, why: why, err: ue.Err}}
	}
	return &retriedError{attempts: attempts, elapsed: elapsed, why: why, err: err}
}

// isTimeout reports whether an error in err's chain says it is a timeout.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
