package llmretry

// Class is the kind of outcome of one attempt: a small closed set that callers
// can switch on. The zero value, [ClassOK], means the attempt got a response
// that is not an error (1xx, 2xx or 3xx).
//
// Each constant's comment says whether the class is retried by default; a
// [Policy] can override that for a status or an error code with a [Rule], and
// [Verdict.Retryable] gives the answer for one attempt.
type Class uint8

// Keep String, retryable and the table in docs/errors.md in step with this list.

// The classes.
const (
	ClassOK              Class = iota // not an error
	ClassRateLimited                  // too many requests or tokens for now (429); retried
	ClassQuotaExhausted               // billing quota, credits or payment exhausted (402, 429 quota codes); not retried
	ClassOverloaded                   // the service is at capacity or down for maintenance (503, 529); retried
	ClassModelOverloaded              // one model or tier is at capacity; retried, and another model may work now
	ClassServerError                  // a server-side failure (500, 502, other 5xx); retried
	ClassTimeout                      // the server or the attempt timed out (408, 504, attempt timeout); retried
	ClassConnection                   // the request did not get a response (reset, refused, DNS, TLS); retried unless permanent
	ClassCanceled                     // the caller's context was cancelled or its deadline passed; final
	ClassAuth                         // missing, invalid, expired or revoked credentials (401)
	ClassPermission                   // the credential may not do this (403)
	ClassInvalidRequest               // malformed or invalid request (400, 413, 422, other 4xx)
	ClassContextLength                // the prompt plus output exceed the model's context window
	ClassContentFiltered              // blocked by a safety or security filter
	ClassNotFound                     // unknown model, endpoint or resource (404)
	ClassConflict                     // concurrent modification of a resource (409)
	numClasses
)

var classNames = [numClasses]string{
	ClassOK:              "ok",
	ClassRateLimited:     "rate_limited",
	ClassQuotaExhausted:  "quota_exhausted",
	ClassOverloaded:      "overloaded",
	ClassModelOverloaded: "model_overloaded",
	ClassServerError:     "server_error",
	ClassTimeout:         "timeout",
	ClassConnection:      "connection",
	ClassCanceled:        "canceled",
	ClassAuth:            "auth",
	ClassPermission:      "permission",
	ClassInvalidRequest:  "invalid_request",
	ClassContextLength:   "context_length",
	ClassContentFiltered: "content_filtered",
	ClassNotFound:        "not_found",
	ClassConflict:        "conflict",
}

// String returns the class's name in snake case, e.g. "rate_limited".
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "unknown"
}

// retryable reports whether an attempt of this class is worth retrying when no
// [Rule] says otherwise.
func (c Class) retryable() bool {
	switch c {
	case ClassRateLimited, ClassOverloaded, ClassModelOverloaded, ClassServerError, ClassTimeout, ClassConnection:
		return true
	}
	return false
}

// Retry is a [Rule]'s say on retrying: as the class says, always or never.
type Retry uint8

const (
	RetryDefault Retry = iota // as the class says
	RetryAlways               // retry even if the class is not retryable
	RetryNever                // do not retry even if the class is retryable
)

// A Rule says what a status or an error code means for one provider: its class,
// and whether it is retried if not as the class says.
type Rule struct {
	Class Class
	Retry Retry
}

// retryable applies the rule's override to its class.
func (r Rule) retryable() bool {
	switch r.Retry {
	case RetryAlways:
		return true
	case RetryNever:
		return false
	}
	return r.Class.retryable()
}

// statusClass is the class of a status when neither the policy nor the body
// says more.
func statusClass(status int) Class {
	switch {
	case status < 400:
		return ClassOK
	case status == 401:
		return ClassAuth
	case status == 402:
		return ClassQuotaExhausted
	case status == 403:
		return ClassPermission
	case status == 404:
		return ClassNotFound
	case status == 408:
		return ClassTimeout
	case status == 409:
		return ClassConflict
	case status == 429:
		return ClassRateLimited
	case status == 503, status == 529:
		return ClassOverloaded
	case status == 504:
		return ClassTimeout
	case status == 501, status == 505:
		return ClassInvalidRequest // not implemented / version not supported: permanent
	case status >= 500:
		return ClassServerError
	}
	return ClassInvalidRequest
}
