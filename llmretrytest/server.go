package llmretrytest

import (
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// KeyHeader is the request header that groups attempts: requests with the
// same key and body count as attempts of one logical request.
const KeyHeader = "Llmretrytest-Key"

// Step is one scripted answer. The zero Step answers with a chat completion
// (a stream of server-sent events if the request asked for "stream": true),
// or on a path ending in /messages, with an Anthropic message.
type Step struct {
	Status int         // 0 means 200 with a completion
	Header http.Header // sent as is
	Body   []byte      // sent as is when Status != 0

	// Delay holds the answer back; the request's cancellation ends it.
	Delay time.Duration
	// Reset drops the connection with a TCP reset instead of answering.
	Reset bool
	// Cut sends the headers and the first CutAfter bytes of the body, then
	// drops the connection, so the client sees a truncated body.
	Cut      bool
	CutAfter int

	// Chunk, if > 0, writes the body in pieces of Chunk bytes, each flushed
	// on its own, so that the client reads it in tiny pieces.
	Chunk int
	// Stall, if > 0, sends the headers and the first StallAfter bytes of the
	// body, then holds the rest back for Stall (or until the request is
	// cancelled): a stream that stalls before its first event.
	Stall      time.Duration
	StallAfter int
}

// Request is the log entry of one received request.
type Request struct {
	Seq      int // arrival order, from 1
	Time     time.Time
	Method   string
	Path     string
	Header   http.Header
	BodyHash [32]byte // SHA-256 of the body as received
	BodyLen  int
	Tokens   int    // what the request costs against a Tokens quota: RequestTokens' in+out, at least 1
	Key      string // the KeyHeader value
	Model    string // the JSON body's top-level "model", if any
	Attempt  int    // 1 for the first request with this key and body
	Status   int    // the status answered; 0 for a reset

	// SinceHint is how long after this key's last answer with a wait hint
	// (Retry-After or Retry-After-Ms) the request arrived; Early says it
	// arrived before the advised time. Both are zero without such an answer.
	SinceHint time.Duration
	Early     bool
}

// Server is the fake provider.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234".
	URL string

	srv *httptest.Server

	mu       sync.Mutex // guards the fields below
	script   []Step
	models   map[string][]Step // per-model scripts, taken before script
	respond  func(Request) Step
	log      []Request
	seq      int // requests received so far, answered or not
	attempts map[attemptKey]int
	advised  map[attemptKey]hinted
	conns    int
	limit    *limits
	echo     bool // success answers name the request's model
}

type attemptKey struct {
	key  string
	hash [32]byte
}

// hinted is when a key was last told to wait, and until when.
type hinted struct{ at, until time.Time }

// NewServer starts a fake provider on 127.0.0.1. Close it when done.
func NewServer() *Server {
	s := &Server{attempts: map[attemptKey]int{}, advised: map[attemptKey]hinted{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Start is NewServer for tests: the server is closed when t ends.
func Start(t interface{ Cleanup(func()) }) *Server {
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Client returns an http.Client that talks to the server directly.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Enqueue appends steps to the script: each request takes the next step;
// when the script is empty, Respond's function or a success answers.
func (s *Server) Enqueue(steps ...Step) {
	s.mu.Lock()
	s.script = append(s.script, steps...)
	s.mu.Unlock()
}

// EnqueueModel appends steps to the script of one model: each request whose
// JSON body names model takes the next of them before the general script.
// Script an overloaded model and let another answer:
//
//	srv.EnqueueModel("gob-large", llmretrytest.Dialect("gptgob").Overloaded(0))
func (s *Server) EnqueueModel(model string, steps ...Step) {
	s.mu.Lock()
	if s.models == nil {
		s.models = map[string][]Step{}
	}
	s.models[model] = append(s.models[model], steps...)
	s.mu.Unlock()
}

// EchoModel makes success answers name the model of their request, as a real
// API does, instead of TemplateModel: a request for "gob-small" is answered
// with WithModel(Completion, "gob-small"). Without it every answer is exactly
// Completion, Stream, Message or MessageStream.
func (s *Server) EchoModel() {
	s.mu.Lock()
	s.echo = true
	s.mu.Unlock()
}

// Respond sets a function that chooses the answer to each request that the
// script does not cover. It is called on the server's goroutines.
func (s *Server) Respond(f func(Request) Step) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

// Requests returns a copy of the request log, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Connections returns how many TCP connections clients have opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{
		Time:     time.Now(),
		Method:   r.Method,
		Path:     r.URL.Path,
		Header:   r.Header.Clone(),
		BodyHash: sha256.Sum256(body),
		BodyLen:  len(body),
		Tokens:   requestCost(body).total(),
		Key:      r.Header.Get(KeyHeader),
		Model:    modelOf(body),
	}
	s.mu.Lock()
	k := attemptKey{req.Key, req.BodyHash}
	s.attempts[k]++
	req.Attempt = s.attempts[k]
	s.seq++
	req.Seq = s.seq // not len(s.log)+1: the log grows only once a request is answered
	var step Step
	scripted := false
	if ms := s.models[req.Model]; len(ms) > 0 {
		step, s.models[req.Model] = ms[0], ms[1:]
		scripted = true
	} else if len(s.script) > 0 {
		step, s.script = s.script[0], s.script[1:]
		scripted = true
	}
	if h, ok := s.advised[k]; ok {
		req.SinceHint = req.Time.Sub(h.at)
		req.Early = req.Time.Before(h.until)
	}
	respond, echo := s.respond, s.echo
	var limitHeaders http.Header
	var limited *Step
	if s.limit != nil && !scripted {
		limitHeaders, limited = s.limit.admit(r.Header, body) // under s.mu: in arrival order
	}
	s.mu.Unlock()

	switch {
	case limited != nil:
		step = *limited
	case !scripted && respond != nil:
		step = respond(req)
	}
	if limitHeaders != nil {
		h := step.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		for k, v := range limitHeaders {
			h[k] = v
		}
		step.Header = h
	}
	if w := advisedWait(step.Header); w > 0 {
		s.mu.Lock()
		s.advised[k] = hinted{at: time.Now(), until: time.Now().Add(w)}
		s.mu.Unlock()
	}
	// Log the request now, not after the delay: a client that gives up on a
	// slow answer has still sent the request.
	req.Status = step.Status
	if step.Status == 0 && !step.Reset {
		req.Status = http.StatusOK
	}
	s.mu.Lock()
	s.log = append(s.log, req)
	s.mu.Unlock()
	if step.Delay > 0 {
		t := time.NewTimer(step.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	s.write(w, r, step, body, echo)
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, step Step, reqBody []byte, echo bool) {
	if step.Reset {
		reset(w)
		return
	}
	status, payload := step.Status, step.Body
	h := w.Header()
	for k, v := range step.Header {
		h[k] = v
	}
	if status == 0 {
		status = http.StatusOK
		var ct string
		ct, payload = successBody(r.URL.Path, reqBody, echo)
		h.Set("Content-Type", ct)
	}
	if h.Get("X-Request-Id") == "" {
		h.Set("X-Request-Id", "req_"+strconv.FormatUint(uint64(time.Now().UnixNano()), 36))
	}
	if step.Chunk > 0 || step.Stall > 0 {
		w.WriteHeader(status) // no Content-Length: chunked, flushed piece by piece
		writePaced(w, r, step, payload)
		return
	}
	if !step.Cut {
		h.Set("Content-Length", strconv.Itoa(len(payload)))
		w.WriteHeader(status)
		w.Write(payload)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(status)
	n := min(max(step.CutAfter, 0), len(payload))
	w.Write(payload[:n])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler) // closes the connection mid-body
}

// writePaced writes payload in step.Chunk-byte pieces, flushing each, with a
// stall after step.StallAfter bytes if step.Stall is set.
func writePaced(w http.ResponseWriter, r *http.Request, step Step, payload []byte) {
	f, _ := w.(http.Flusher)
	flush := func() {
		if f != nil {
			f.Flush()
		}
	}
	flush()
	stallAt := -1
	if step.Stall > 0 {
		stallAt = min(max(step.StallAfter, 0), len(payload))
	}
	for off := 0; off <= len(payload); {
		if off == stallAt {
			stallAt = -1
			t := time.NewTimer(step.Stall)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if off == len(payload) {
			return
		}
		end := len(payload)
		if step.Chunk > 0 {
			end = min(off+step.Chunk, end)
		}
		if stallAt > off {
			end = min(end, stallAt)
		}
		if _, err := w.Write(payload[off:end]); err != nil {
			return
		}
		flush()
		off = end
	}
}

// reset closes the connection with a TCP RST before any response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
