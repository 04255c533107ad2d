package llmretryotel

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmretry/llmretry"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attribute keys of our own, beside the HTTP client semantic conventions.
const (
	PolicyKey     = attribute.Key("llmretry.policy")      // the policy's name, e.g. "openai"
	ClassKey      = attribute.Key("llmretry.class")       // the attempt's class, e.g. "rate_limited"
	DecisionKey   = attribute.Key("llmretry.decision")    // what followed, e.g. "retry"
	WaitKindKey   = attribute.Key("llmretry.wait.kind")   // pacing, hint or backoff
	PacingKeyKey  = attribute.Key("llmretry.key")         // the pacing key: policy, host, credential hash and (with no limit configured) model
	PriorityKey   = attribute.Key("llmretry.priority")    // a pacing wait's priority (llmretry.WithPriority); absent for 0
	TargetKey     = attribute.Key("llmretry.target")      // the fallback or pool target an attempt went to; absent for the request's own
	AttemptKey    = attribute.Key("llmretry.attempt")     // 1 for the first attempt (spans only)
	HintKey       = attribute.Key("llmretry.hint")        // where the wait hint came from (spans only)
	RetryAfterKey = attribute.Key("llmretry.retry_after") // the hint, in seconds (spans only)
	WaitKey       = attribute.Key("llmretry.wait")        // the wait before the next attempt, in seconds (spans only)
	ErrorCodeKey  = attribute.Key("llmretry.error.code")  // the provider's error code (spans only)
	ErrorTypeKey  = attribute.Key("llmretry.error.type")  // the provider's error type (spans only)
	RequestIDKey  = attribute.Key("llmretry.request_id")  // the provider's request id (spans only)
)

// The values of WaitKindKey.
const (
	WaitPacing  = "pacing"  // client-side pacing held the request
	WaitHint    = "hint"    // the server's wait hint (Retry-After and the like)
	WaitBackoff = "backoff" // jittered exponential backoff
)

// method returns http.request.method, normalized as the conventions ask,
// and http.request.method_original when it differs.
func method(m string) (attribute.KeyValue, attribute.KeyValue, bool) {
	switch m {
	case "", http.MethodGet:
		return semconv.HTTPRequestMethodGet, attribute.KeyValue{}, false
	case http.MethodPost:
		return semconv.HTTPRequestMethodPost, attribute.KeyValue{}, false
	case http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return semconv.HTTPRequestMethodKey.String(m), attribute.KeyValue{}, false
	}
	orig := semconv.HTTPRequestMethodOriginal(m)
	if up := strings.ToUpper(m); up != m {
		if kv, _, extra := method(up); !extra {
			return kv, orig, true
		}
	}
	return semconv.HTTPRequestMethodOther, orig, true
}

// server returns server.address, and server.port when it is not the
// scheme's default, from a URL's host (never its user info or query).
func server(scheme, hostport string) (host string, port int) {
	host = hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host = h
		port, _ = strconv.Atoi(p)
	}
	if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) {
		port = 0
	}
	return host, port
}

// requestAttrs are the attributes of a request that metrics and spans share.
func requestAttrs(r *http.Request, kvs []attribute.KeyValue) []attribute.KeyValue {
	m, orig, hasOrig := method(r.Method)
	kvs = append(kvs, m)
	if hasOrig {
		kvs = append(kvs, orig)
	}
	scheme, host := "", ""
	if r.URL != nil {
		scheme, host = r.URL.Scheme, r.URL.Host
	}
	if scheme == "" {
		scheme = "http"
	}
	addr, port := server(scheme, host)
	kvs = append(kvs, semconv.ServerAddress(addr), semconv.URLScheme(scheme))
	if port > 0 {
		kvs = append(kvs, semconv.ServerPort(port))
	}
	return kvs
}

// errorType is error.type for an attempt: the status code of an error
// answer, as the conventions ask, or the class of a transport error (a
// low-cardinality identifier); "" for a success.
func errorType(v llmretry.Verdict) string {
	switch {
	case v.Status >= 400:
		return strconv.Itoa(v.Status)
	case v.Err != nil || v.Status == 0 && v.Class != llmretry.ClassOK:
		return v.Class.String()
	}
	return ""
}

// pacingErrorType is error.type for a pacing wait that ended the request.
func pacingErrorType(err error) string {
	switch {
	case errors.Is(err, llmretry.ErrDeadline):
		return "pacing_deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}
