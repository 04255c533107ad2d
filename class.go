package llmretry

// Class is the kind of outcome of one attempt: a small closed set that callers
// can switch on. The zero value, OK, means the attempt got a response that is
// not an error (1xx, 2xx or 3xx).
//
// Whether a class is retried by default is given by [Class.Retryable]; a
// [Policy] can override it for a status or an error code with a [Rule].
type Class uint8

// The classes. Keep String, Retryable and the table in docs/errors.md in step with this list.
const (
	OK              Class = iota // not an error
	RateLimited                  // too many requests or tokens for now (429); retried
	QuotaExhausted               // billing quota, credits or payment exhausted (402, 429 quota codes); not retried
	Overloaded                   // the service is at capacity or down for maintenance (503, 529); retried
	ModelOverloaded              // one model or tier is at capacity; retried, and another model may work now
	ServerError                  // a server-side failure (500, 502, other 5xx); retried
	Timeout                      // the server or the attempt timed out (408, 504, attempt timeout); retried
	Connection                   // the request did not get a response (reset, refused, DNS, TLS); retried unless permanent
	Canceled                     // the caller's context was cancelled or its deadline passed; final
	Auth                         // missing, invalid, expired or revoked credentials (401)
	Permission                   // the credential may not do this (403)
	InvalidRequest               // malformed or invalid request (400, 413, 422, other 4xx)
	ContextLength                // the prompt plus output exceed the model's context window
	ContentFiltered              // blocked by a safety or security filter
	NotFound                     // unknown model, endpoint or resource (404)
	Conflict                     // concurrent modification of a resource (409)
	numClasses
)

var classNames = [numClasses]string{
	OK:              "ok",
	RateLimited:     "rate_limited",
	QuotaExhausted:  "quota_exhausted",
	Overloaded:      "overloaded",
	ModelOverloaded: "model_overloaded",
	ServerError:     "server_error",
	Timeout:         "timeout",
	Connection:      "connection",
	Canceled:        "canceled",
	Auth:            "auth",
	Permission:      "permission",
	InvalidRequest:  "invalid_request",
	ContextLength:   "context_length",
	ContentFiltered: "content_filtered",
	NotFound:        "not_found",
	Conflict:        "conflict",
}

// String returns the class's name in snake case, e.g. "rate_limited".
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "unknown"
}

// Retryable reports whether an attempt of this class is worth retrying when no
// [Rule] says otherwise.
func (c Class) Retryable() bool {
	switch c {
	case RateLimited, Overloaded, ModelOverloaded, ServerError, Timeout, Connection:
		return true
	}
	return false
}

// Override overrides a class's retryability in a [Rule].
type Override uint8

const (
	RetryDefault Override = iota // as the class says
	RetryAlways                  // retry even if the class is not retryable
	RetryNever                   // do not retry even if the class is retryable
)

// A Rule says what a status or an error code means for one provider: its class,
// and whether it is retried if not as the class says.
type Rule struct {
	Class Class
	Retry Override
}

// retryable applies the rule's override to its class.
func (r Rule) retryable() bool {
	switch r.Retry {
	case RetryAlways:
		return true
	case RetryNever:
		return false
	}
	return r.Class.Retryable()
}

// statusClass is the class of a status when neither the policy nor the body
// says more.
func statusClass(status int) Class {
	switch {
	case status < 400:
		return OK
	case status == 401:
		return Auth
	case status == 402:
		return QuotaExhausted
	case status == 403:
		return Permission
	case status == 404:
		return NotFound
	case status == 408:
		return Timeout
	case status == 409:
		return Conflict
	case status == 429:
		return RateLimited
	case status == 503, status == 529:
		return Overloaded
	case status == 504:
		return Timeout
	case status == 501, status == 505:
		return InvalidRequest // not implemented / version not supported: permanent
	case status >= 500:
		return ServerError
	}
	return InvalidRequest
}
