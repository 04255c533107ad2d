package llmretry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestParseErrorBody covers every error shape in ../shared/providers/.
func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want errorBody
	}{
		{"GPT-Gob nested with retry_after (gptgob.md)",
			`{"error":{"type":"rate_limit_exceeded","code":"gremlin_in_the_pipes","message":"too many requests, tall one. come back in 12s.","param":null,"retry_after":12}}`,
			errorBody{Type: "rate_limit_exceeded", Code: "gremlin_in_the_pipes", Message: "too many requests, tall one. come back in 12s.", RetryAfter: 12 * time.Second, HasRetryAfter: true}},
		{"SambaNova nested with param (sambanova.md)",
			`{"error":{"message":"Decimal above maximum value. Expected a value between 0 and 1, but got 100 instead.","type":"invalid_request_error","param":"top_p","code":"decimal_above_max_value"}}`,
			errorBody{Type: "invalid_request_error", Code: "decimal_above_max_value", Param: "top_p", Message: "Decimal above maximum value. Expected a value between 0 and 1, but got 100 instead."}},
		{"Cencori flat (cencori.md)",
			`{"error":"Error message describing what went wrong","code":"ERROR_CODE","status":400,"details":{}}`,
			errorBody{Code: "ERROR_CODE", Message: "Error message describing what went wrong", Status: 400}},
		{"SolidRusT nested (solidrust.md)",
			`{"error":{"message":"Rate limit exceeded. Please retry after 60 seconds.","type":"rate_limit_error","code":"rate_limit_exceeded"}}`,
			errorBody{Type: "rate_limit_error", Code: "rate_limit_exceeded", Message: "Rate limit exceeded. Please retry after 60 seconds."}},
		{"top-level fields", `{"message":"no such model","type":"invalid_request_error","param":"model","code":"model_not_found"}`,
			errorBody{Type: "invalid_request_error", Code: "model_not_found", Param: "model", Message: "no such model"}},
		{"numeric code", `{"error":{"code":429,"message":"slow down"}}`, errorBody{Code: "429", Message: "slow down"}},
		{"numeric top-level code", `{"code":1008,"msg":"x"}`, errorBody{Code: "1008"}},
		{"Anthropic", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			errorBody{Type: "overloaded_error", Message: "Overloaded"}},
		{"FastAPI detail", `{"detail":"Not authenticated"}`, errorBody{Message: "Not authenticated"}},
		{"Cloudflare envelope (Workers AI errors page)",
			`{"success":false,"errors":[{"code":3040,"message":"No more data centers to forward the request to"}],"messages":[],"result":null}`,
			errorBody{Code: "3040", Message: "No more data centers to forward the request to"}},
		{"Cloudflare envelope, first error of two", `{"success":false,"errors":[{"message":"a","code":"7003"},{"code":1,"message":"b"}]}`,
			errorBody{Code: "7003", Message: "a"}},
		{"Cloudflare envelope, errors not objects", `{"success":false,"errors":["x",{"code":1}]}`, errorBody{}},
		{"Cloudflare envelope, empty errors", `{"success":false,"errors":[]}`, errorBody{}},
		{"errors beside an error object: the object wins", `{"error":{"code":"c","message":"m"},"errors":[{"code":1,"message":"n"}]}`,
			errorBody{Code: "c", Message: "m"}},
		{"TGI error_type", `{"error":"Model is overloaded","error_type":"overloaded"}`, errorBody{Type: "overloaded", Message: "Model is overloaded"}},
		{"Ollama", `{"error":"model 'llama3.2' not found"}`, errorBody{Message: "model 'llama3.2' not found"}},
		{"vLLM top level", `{"object":"error","message":"m","type":"BadRequestError","param":null,"code":400}`,
			errorBody{Type: "BadRequestError", Code: "400", Message: "m"}},
		{"retry_after as string", `{"error":{"retry_after":"2.5"}}`, errorBody{RetryAfter: 2500 * time.Millisecond, HasRetryAfter: true}},
		{"retry_after as duration", `{"retry_after":"3s"}`, errorBody{RetryAfter: 3 * time.Second, HasRetryAfter: true}},
		{"negative retry_after ignored", `{"retry_after":-3}`, errorBody{}},
		{"null fields", `{"error":{"type":null,"code":null,"message":null}}`, errorBody{}},
		{"object where a string belongs", `{"error":{"code":{"x":1},"message":["a"]}}`, errorBody{}},
		{"not JSON", `<html><body>502 Bad Gateway</body></html>`, errorBody{}},
		{"truncated JSON", `{"error":{"type":"rate_limit`, errorBody{}},
		{"JSON array of errors (Gemini streaming)", `[{"error":{"code":"x"}}]`, errorBody{Code: "x"}},
		{"JSON array of numbers", `[1,2]`, errorBody{}},
		{"empty JSON array", `[]`, errorBody{}},
		{"JSON array of arrays", `[[{"error":{"code":"x"}}]]`, errorBody{}},
		{"Gemini: only the first element counts", ` [ {"error":{"code":"a"}}, {"error":{"code":"b"}} ]`, errorBody{Code: "a"}},
		{"too deep", `{"error":{"code":"x","d":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`, errorBody{}},
		{"brackets in strings do not count", `{"error":{"code":"x","message":"` + strings.Repeat("[{", 40) + `\""}}`, errorBody{Code: "x", Message: strings.Repeat("[{", 40) + `"`}},
		{"empty", ``, errorBody{}},
	}
	for _, tt := range tests {
		if got := parseErrorBody([]byte(tt.body)); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		policy     *Policy
		status     int
		header     http.Header
		body       string
		wantClass  Class
		wantRetry  bool
		wantWait   time.Duration
		wantSource string
	}{
		{"200", nil, 200, nil, `{"error":"ignored"}`, ClassOK, false, 0, noHint},
		{"429 rate_limit_exceeded", nil, 429, nil, `{"error":{"code":"rate_limit_exceeded"}}`, ClassRateLimited, true, 0, noHint},
		{"429 quota_exceeded", nil, 429, nil, `{"error":{"type":"quota_exceeded"}}`, ClassQuotaExhausted, false, 0, noHint},
		{"429 insufficient_quota generic", nil, 429, nil, `{"error":{"code":"insufficient_quota"}}`, ClassQuotaExhausted, false, 0, noHint},
		{"429 insufficient_quota SambaNova", sambaNovaPolicy(), 429, nil, `{"error":{"code":"insufficient_quota"}}`, ClassRateLimited, true, 0, noHint},
		{"code case-insensitive", cencoriPolicy(), 403, nil, `{"error":"x","code":"INSUFFICIENT_CREDITS","status":403}`, ClassQuotaExhausted, false, 0, noHint},
		{"code before type", gptGobPolicy(), 503, nil, `{"error":{"type":"service_unavailable","code":"horde_unavailable"}}`, ClassModelOverloaded, true, 0, noHint},
		{"unknown code falls to status", nil, 503, nil, `{"error":{"code":"weird"}}`, ClassOverloaded, true, 0, noHint},
		{"numeric code falls to status", nil, 500, nil, `{"error":{"code":500}}`, ClassServerError, true, 0, noHint},
		{"garbage body", nil, 502, nil, `<html>`, ClassServerError, true, 0, noHint},
		{"501 is permanent", nil, 501, nil, ``, ClassInvalidRequest, false, 0, noHint},
		{"Retry-After over body", nil, 429, http.Header{"Retry-After": {"3"}}, `{"retry_after":9}`, ClassRateLimited, true, 3 * time.Second, hintRetryAfter},
		{"bad Retry-After falls to body", nil, 429, http.Header{"Retry-After": {"-1"}}, `{"retry_after":9}`, ClassRateLimited, true, 9 * time.Second, hintBody},
		{"reset only for rate limits", nil, 503, http.Header{"X-Ratelimit-Reset": {"20"}}, ``, ClassOverloaded, true, 0, noHint},
		{"reset for 429", nil, 429, http.Header{"X-Ratelimit-Reset": {"20"}}, ``, ClassRateLimited, true, 20 * time.Second, hintReset},
		{"message last", nil, 429, nil, `{"error":{"message":"Please retry after 60 seconds."}}`, ClassRateLimited, true, time.Minute, hintMessage},
		{"x-should-retry false", nil, 500, http.Header{"X-Should-Retry": {"false"}}, ``, ClassServerError, false, 0, noHint},
		{"x-should-retry true", nil, 400, http.Header{"X-Should-Retry": {"True"}}, ``, ClassInvalidRequest, true, 0, noHint},
		{"x-should-retry garbage ignored", nil, 400, http.Header{"X-Should-Retry": {"maybe"}}, ``, ClassInvalidRequest, false, 0, noHint},
		{"rule override", &Policy{Codes: map[string]Rule{"conflict_error": {Class: ClassConflict, Retry: RetryAlways}}}, 409, nil,
			`{"error":{"type":"conflict_error"}}`, ClassConflict, true, 0, noHint},
		{"status override", &Policy{Statuses: map[int]Rule{500: {Class: ClassServerError, Retry: RetryNever}}}, 500, nil, ``, ClassServerError, false, 0, noHint},
	}
	for _, tt := range tests {
		v := tt.policy.classify(response(tt.status, tt.header, tt.body), nil, testNow)
		if v.Class != tt.wantClass || v.Retryable != tt.wantRetry || v.RetryAfter != tt.wantWait || v.Hint != tt.wantSource {
			t.Errorf("%s: got class %v retry %v wait %v (%v); want %v %v %v (%v)", tt.name,
				v.Class, v.Retryable, v.RetryAfter, v.Hint, tt.wantClass, tt.wantRetry, tt.wantWait, tt.wantSource)
		}
	}
}

// TestClassifyKeepsBody checks that the caller reads exactly the bytes sent,
// including a read error that happened while classifying.
func TestClassifyKeepsBody(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset mid-body")
	payload := bytes.Repeat([]byte("0123456789"), 10000)
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, ContentLength: -1,
		Body: io.NopCloser(io.MultiReader(bytes.NewReader(payload[:100]), &errReader{boom}))}
	(*Policy)(nil).Classify(resp, nil)
	got, err := io.ReadAll(resp.Body)
	if !bytes.Equal(got, payload[:100]) || !errors.Is(err, boom) {
		t.Errorf("read %d bytes, err %v; want the 100 bytes sent, then %v", len(got), err, boom)
	}

	resp = response(500, nil, string(payload))
	genericPolicy().Classify(resp, nil)
	genericPolicy().Classify(resp, nil) // twice: must not lose or repeat bytes
	if got, _ := io.ReadAll(resp.Body); !bytes.Equal(got, payload) {
		t.Errorf("read %d bytes, want the %d sent", len(got), len(payload))
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestClassifyError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err       error
		wantClass Class
		wantRetry bool
	}{
		{errors.New("read: connection reset by peer"), ClassConnection, true},
		{&attemptTimeoutError{timeout: time.Second, err: errors.New("x")}, ClassTimeout, true},
		{errors.New("unsupported protocol scheme \"ftp\""), ClassInvalidRequest, false},
		{errors.New("http: no Host in request URL"), ClassInvalidRequest, false},
		{fmt.Errorf("net/http: invalid method %q", "GET /"), ClassInvalidRequest, false},
		{errors.New("net/http: invalid header field name \"a b\""), ClassInvalidRequest, false},
		{&requestError{msg: "llmretry: reading request body", err: errors.New("disk on fire")}, ClassInvalidRequest, false},
		{&url.Error{Op: "Post", URL: "http://x", Err: &timeoutErr{}}, ClassTimeout, true},
		{errors.New("x509: certificate is not trusted"), ClassConnection, false},
		{canceledErr(), ClassCanceled, false},
		// A name that does not resolve is permanent; a resolver's passing failure is not (issue 21, item 14).
		{dialErr(&net.DNSError{Err: "no such host", Name: "api.nowhere.invalid", IsNotFound: true}), ClassConnection, false},
		{&url.Error{Op: "Post", URL: "http://x", Err: dialErr(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true})}, ClassConnection, false},
		{dialErr(&net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}), ClassTimeout, true},
		{dialErr(&net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}), ClassConnection, true},
		{dialErr(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true, IsTemporary: true}), ClassConnection, true},
	}
	for _, tt := range tests {
		v := classifyError(tt.err)
		if v.Class != tt.wantClass || v.Retryable != tt.wantRetry || v.Err == nil {
			t.Errorf("classifyError(%v) = %v retry %v; want %v %v", tt.err, v.Class, v.Retryable, tt.wantClass, tt.wantRetry)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func canceledErr() error { return fmt.Errorf("wrapped: %w", context.Canceled) }

// dialErr is err as net/http's Transport returns a failed dial.
func dialErr(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }

func TestRoundTripUnresolvableHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dns   *net.DNSError
		tries int
	}{
		{&net.DNSError{Err: "no such host", Name: "api.nowhere.invalid", IsNotFound: true}, 1},
		{&net.DNSError{Err: "i/o timeout", Name: "api.nowhere.invalid", IsTimeout: true}, 3},
	} {
		tries := 0
		tr := &Transport{Policy: &Policy{MaxRetries: 2}, seams: seams{sleep: (&fakeTime{}).Sleep},
			Base: roundTripFunc(func(*http.Request) (*http.Response, error) { tries++; return nil, dialErr(tt.dns) })}
		req, _ := http.NewRequest(http.MethodPost, "https://api.nowhere.invalid/v1/chat/completions", strings.NewReader(chatBody))
		_, err := tr.RoundTrip(req)
		var de *net.DNSError
		if !errors.As(err, &de) || tries != tt.tries {
			t.Errorf("%v: %d attempts, err %v; want %d and the DNS error", tt.dns, tries, err, tt.tries)
		}
	}
}
