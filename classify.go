package llmretry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Verdict is what one attempt got, and what that means: its class, whether
// it is worth retrying, how long the server asked to wait, and the facts of
// its error body. [AttemptInfo] carries one per attempt; an [APIError]
// carries the last attempt's. The zero Verdict is a success.
//
// The fields that the server or the network wrote (Type, Code, Param,
// Message, RequestID, Err) hold no credential of the request, and the
// strings are bounded: Message to 1 KiB, RequestID to 128 bytes, the others
// to 256.
type Verdict struct {
	Class Class
	// Retryable reports whether the outcome is transient: the same request
	// may succeed later (after RetryAfter, if set), by class, rule or
	// X-Should-Retry. On an APIError, its Decision says whether the
	// Transport retried it.
	Retryable bool

	Status    int    // HTTP status; 0 for transport errors; 200 for a stream whose first event is an error
	Type      string // error type from the body, e.g. "rate_limit_exceeded"; Google's error.status ("RESOURCE_EXHAUSTED")
	Code      string // error code from the body, e.g. "gremlin_in_the_pipes"; numbers as written; Google's ErrorInfo reason; AWS's exception name
	Param     string // the parameter at fault, if the body names one
	Message   string // the body's message, at most 1 KiB, credentials redacted
	RequestID string // X-Request-Id or similar, for support tickets

	RetryAfter time.Duration // the server's wait hint; 0 when none

	// Hint says where RetryAfter came from: "" when there is no hint. The
	// Transport looks for one in this order, and the first valid one wins:
	//
	//  1. "retry-after-ms": the retry-after-ms header (OpenAI, Anthropic,
	//     Azure), then Azure's x-ms-retry-after-ms: milliseconds.
	//  2. "retry-after": the Retry-After header: delta-seconds (fractions
	//     accepted) or an HTTP-date.
	//  3. "body": the JSON error body: a "retry_after" field (seconds or a
	//     duration string); Google's RetryInfo detail (retryDelay
	//     "1.837906927s"); the X-RateLimit-Reset that OpenRouter copies into
	//     error.metadata.headers.
	//  4. "reset": for rate-limited answers only, the rate-limit headers: the
	//     reset of the limit with nothing (or under a tenth) left, else
	//     X-RateLimit-Reset or RateLimit-Reset, else the earliest per-unit
	//     reset; a limit with ample left says nothing of the 429. A reset
	//     is a counter's claim, not a request to wait: one longer than
	//     MaxWait or past the deadline is not waited for, and the retry
	//     waits the backoff (AttemptInfo.Wait says what was done).
	//  5. "message": a phrase in the error message, or in the upstream error
	//     that OpenRouter quotes in error.metadata.raw: "retry after 20
	//     seconds", "try again in 1.5s", "Please retry in 1.837906927s."
	//
	// Negative, unparsable and absurd (over a year) values are skipped as if
	// absent, and so are zero waits (Retry-After: 0, a date or reset already
	// past): they say nothing of when to retry. With no hint, the Transport
	// waits the policy's backoff, and Hint is "" with RetryAfter 0: what is
	// reported is what was done.
	Hint string

	Err error // the transport error, for attempts that got no response

	rate *rateHeaders // the error answer's rate-limit headers, read once; nil if none
}

// Classify says what an attempt's outcome means under this policy: resp and
// err are what an http.RoundTripper returned. For an error status it reads at
// most 64 KiB of resp.Body and replaces resp.Body with a reader that yields
// every byte of the original body, so the caller still reads it whole.
// The credentials of resp.Request are redacted from the Verdict's fields.
// A nil *Policy classifies with the generic rules.
func (p *Policy) Classify(resp *http.Response, err error) Verdict {
	return p.classify(resp, err, time.Now())
}

func (p *Policy) classify(resp *http.Response, err error, now time.Time) Verdict {
	if err != nil || resp == nil {
		return classifyError(err)
	}
	status := resp.StatusCode
	if status < 400 {
		return Verdict{Status: status} // success path: no body read, no header lookups
	}
	v := Verdict{Status: status, RequestID: requestID(resp.Header)}
	body := parseErrorBody(peekBody(resp))
	if body.Code == "" {
		if et := resp.Header[hdrAmznErrorType]; len(et) > 0 {
			body.Code = awsType(et[0]) // Bedrock: the exception name, with a bare {"message"} body
		}
	}
	v.Type, v.Code, v.Param, v.Message = body.Type, body.Code, body.Param, body.Message // bounded by sanitize

	rule := p.rule(status, v.Code, v.Type)
	v.Class, v.Retryable = rule.Class, rule.retryable()
	if sr := resp.Header[hdrShouldRetry]; len(sr) > 0 {
		switch strings.ToLower(strings.TrimSpace(sr[0])) {
		case "true":
			v.Retryable = true
		case "false":
			v.Retryable = false
		}
	}

	// Rate-limit headers, read once: for the reset hint and the pacer.
	if rh := readRateHeaders(resp.Header, now); rh.any() {
		v.rate = &rh
	}
	v.RetryAfter, v.Hint = waitHint(resp.Header, &body, v.rate, v.Class == ClassRateLimited, now)
	refine(&v, &body)
	return v.sanitize(requestSecrets(resp.Request))
}

// classifyError classifies a transport error. Cancellation is final; so are
// the failures of the request itself (an invalid request, a body that cannot
// be read: the caller's, not the network's) and the permanent failures that
// go-retryablehttp's DefaultRetryPolicy knows (untrusted certificates,
// unsupported schemes, invalid headers, redirect loops). Everything else is a
// Connection or Timeout failure worth retrying.
func classifyError(err error) Verdict {
	if err == nil {
		err = errors.New("llmretry: nil response and nil error")
	}
	v := Verdict{Err: err}
	var re *requestError
	switch {
	case errors.Is(err, errAttemptTimeout):
		v.Class, v.Retryable = ClassTimeout, true
		return v
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		v.Class = ClassCanceled
		return v
	case errors.As(err, &re), isRequestError(err):
		v.Class = ClassInvalidRequest
		return v
	}
	v.Class = ClassConnection
	if isTimeout(err) {
		v.Class = ClassTimeout
	}
	// DefaultRetryPolicy recognises permanent errors only inside a *url.Error,
	// which http.Client adds and a RoundTripper does not; wrap as the Client would.
	var ue *url.Error
	if !errors.As(err, &ue) {
		err = &url.Error{Op: "Post", URL: "", Err: err}
	}
	if unresolvable(err) {
		return v // the same name will not resolve a moment later
	}
	v.Retryable, _ = retryablehttp.DefaultRetryPolicy(context.Background(), nil, err)
	return v
}

// unresolvable reports whether err says that the host's name does not exist
// ("no such host"): a permanent failure. A resolver that timed out or failed
// for the moment (IsTimeout, IsTemporary) is worth another try.
func unresolvable(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound && !de.IsTimeout && !de.IsTemporary
}

// requestErrors are the messages of net/http's errors for a request that no
// attempt can send (its Transport returns them as plain errors).
var requestErrors = [...]string{
	"http: nil Request.",
	"http: no Host in request URL",
	"http: invalid Host header",
	"net/http: can't write control character in Request.URL",
	"net/http: invalid method",
	"net/http: invalid header",
	"net/http: invalid trailer",
	"unsupported protocol scheme",
	"http: ContentLength=",         // "… with Body length N": the body is not as long as declared
	"http: Request.ContentLength=", // "… with nil Body"
	"http2: request body larger than specified content length",
	// What HTTP/2 forbids in a request (net/http/internal/httpcommon).
	"http2: invalid Host header",
	"http2: invalid request :path",
	"http2: invalid HTTP header",
	"http2: invalid HTTP trailer",
	"http2: invalid Upgrade request header",
	"http2: invalid Transfer-Encoding request header",
	"http2: invalid Connection request header",
	"http2: invalid :protocol header",
	"request header list larger than peer's advertised limit",
}

func isRequestError(err error) bool {
	msg := err.Error()
	for _, m := range requestErrors {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// rule finds the rule for an error response: the policy's code rules (code,
// then type), the generic code rules, the policy's status rules, then the
// status's own class. Codes and types match case-insensitively. A generic
// code that only says "invalid request" (invalid_request_error, Google's
// INVALID_ARGUMENT, AWS's ValidationException…) does not decide: the status
// does, so DeepSeek's 402 {"code":"invalid_request_error"} is an exhausted
// balance and Mistral's 429 invalid_request_error a rate limit; nor does a
// conflict code on a 409 (see vagueFor).
func (p *Policy) rule(status int, code, typ string) Rule {
	for _, key := range [2]string{code, typ} {
		if key == "" {
			continue
		}
		key = strings.ToLower(key)
		if p != nil {
			if r, ok := p.Codes[key]; ok {
				return r
			}
		}
		if c, ok := genericCode(key); ok && !vagueFor(c, status) {
			return Rule{Class: c}
		}
	}
	if p != nil {
		if r, ok := p.Statuses[status]; ok {
			return r
		}
	}
	return Rule{Class: statusClass(status)}
}

// vagueFor reports whether a generic code's class says less than status.
// A conflict code on a 409 restates the status: the status rule decides, so
// a policy that retries 409 (openai-go and the Stainless SDKs do) retries
// 409 {"code":"conflict"} too.
func vagueFor(c Class, status int) bool {
	switch c {
	case ClassInvalidRequest:
		return true
	case ClassConflict:
		return status == 409
	case ClassServerError:
		sc := statusClass(status)
		return sc == ClassOverloaded || sc == ClassTimeout
	}
	return false
}

// requestIDHeaders are the response headers that carry a request id, in order.
var requestIDHeaders = [...]string{"X-Request-Id", "Request-Id", "X-Amzn-Requestid", "Apim-Request-Id", "Cf-Ray"}

// requestID returns the first request id header's value. The names are
// canonical, so the map is read directly, as net/http stores response headers.
func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h[k]; len(v) > 0 && v[0] != "" {
			return v[0] // bounded by sanitize
		}
	}
	return ""
}

// verdict classifies an attempt's outcome and makes it fit to be shown: the
// credentials of r, the request sent, are redacted from every field. A 200
// event stream whose first event is an error is classified like an error
// response. A transport error caused by the request itself (its body failed
// to read, its headers are invalid) is the caller's failure, never retried.
func (c *call) verdict(r *http.Request, resp *http.Response, err error, now time.Time) Verdict {
	if resp != nil && resp.Request == nil && resp.StatusCode >= 400 {
		resp.Request = r // classify redacts resp.Request's credentials
	}
	v := c.pol.classify(resp, err, now)
	if sb, ok := failedStream(resp); ok {
		if resp.Request == nil {
			resp.Request = r // an error answer, as above: ParseError finds the APIError attached to it there
		}
		return c.pol.streamVerdict(resp, sb, now).sanitize(requestSecrets(r))
	}
	if v.Err == nil {
		return v
	}
	if berr := c.watch.failed(); berr != nil {
		v = classifyError(&requestError{msg: "llmretry: reading request body", err: berr})
	} else if v.Class != ClassCanceled && invalidHeader(r.Header) != "" {
		v.Class, v.Retryable = ClassInvalidRequest, false
	}
	v.Err = redactErr(v.Err, requestSecrets(r))
	return v
}
