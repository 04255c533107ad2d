package llmretry

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

// providerRow is one row of a provider's published error reference, sent by
// the fake provider in that provider's format, and what the Transport must do.
type providerRow struct {
	doc       string // the row as the document writes it
	step      llmretrytest.Step
	class     Class
	retried   bool
	wait      time.Duration // the wait before the retry, when the server gives a hint
	requestID bool          // the error carries the response's request id
}

// runRows sends each row through a Transport with policy p: the row's answer
// first, then a success.
func runRows(t *testing.T, p func() *Policy, rows []providerRow) {
	t.Helper()
	for _, row := range rows {
		t.Run(row.doc, func(t *testing.T) {
			t.Parallel()
			tr, srv, ft := setup(t, p())
			srv.Enqueue(row.step)
			var first AttemptInfo
			tr.Observer = onAttempt(func(a AttemptInfo) {
				if a.Attempt == 1 {
					first = a
				}
			})
			resp, _, err := post(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got := first.Verdict.Class; got != row.class {
				t.Errorf("class = %v, want %v", got, row.class)
			}
			if row.requestID && first.Verdict.RequestID == "" {
				t.Error("request id missing")
			}
			attempts := len(srv.Requests())
			if row.retried {
				if attempts != 2 || resp.StatusCode != 200 {
					t.Errorf("got %d after %d attempts, want a retry and success", resp.StatusCode, attempts)
				}
				if row.wait > 0 {
					if w := ft.Waits(); len(w) != 1 || w[0] != row.wait {
						t.Errorf("waits = %v, want [%v]", w, row.wait)
					}
				}
				return
			}
			if attempts != 1 {
				t.Errorf("attempts = %d, want 1 (not retried)", attempts)
			}
			if got, want := resp.StatusCode, row.step.Status; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
		})
	}
}

func TestHostRouting(t *testing.T) {
	t.Parallel()
	gob := gptGobPolicy()
	tr := &Transport{Hosts: map[string]*Policy{"gob.example": gob}}
	tests := []struct {
		url  string
		want string
	}{
		{"https://gob.example/v1/chat/completions", "gptgob"},
		{"https://gob.example:8443/v1", "gptgob"},
		{"https://api.cerebras.ai/v1/chat/completions", "cerebras"},
		{"https://API.SambaNova.ai/v1", "sambanova"},
		{"https://api.openai.com./v1", "openai"}, // a fully qualified name (trailing dot) is the same host
		{"https://gob.example.:443/v1", "gptgob"},
		{"https://api.solidrust.ai/v1", "solidrust"},
		{"https://unknown.example/v1", "generic"},
		{"https://api.openai.com/v1/chat/completions", "openai"},
		{"https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions", "azure-openai"},
		{"https://MyRes.OpenAI.Azure.com/openai", "azure-openai"},
		{"https://myres.cognitiveservices.azure.com/openai", "azure-openai"},
		{"https://a.b.openai.azure.com/", "generic"}, // "*" is one label
		{"https://openai.azure.com/", "generic"},     // and not empty
		{"https://api.anthropic.com/v1/messages", "anthropic"},
		{"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", "gemini"},
		{"https://us-central1-aiplatform.googleapis.com/v1/projects/p", "gemini"},
		{"https://aiplatform.googleapis.com/v1/projects/p", "gemini"},
		{"https://bedrock-runtime.us-east-1.amazonaws.com/model/x/invoke", "bedrock"},
		{"https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com/model/x/converse", "bedrock"},
		{"https://bedrock.us-east-1.amazonaws.com/", "generic"},
		{"https://api.groq.com/openai/v1", "groq"},
		{"https://api.mistral.ai/v1", "mistral"},
		{"https://openrouter.ai/api/v1", "openrouter"},
		{"https://api.deepseek.com/chat/completions", "deepseek"},
		{"https://api.x.ai/v1", "xai"},
		{"https://api.together.xyz/v1", "together"},
		{"https://api.together.ai/v1", "together"},
		{"https://api.fireworks.ai/inference/v1", "fireworks"},
		{"https://api.cloudflare.com/client/v4/accounts/abc123/ai/run/@cf/meta/llama-3.1-8b-instruct", "cloudflare"},
		{"https://api.cloudflare.com/client/v4/accounts/abc123/ai/v1/chat/completions", "cloudflare"},
		{"https://gateway.ai.cloudflare.com/v1/abc123/gw/openai/chat/completions", "generic"}, // AI Gateway: the provider behind it answers
		{"https://api.cohere.com/v2/chat", "cohere"},
		{"https://api.cohere.ai/v1/chat", "cohere"},
		{"http://localhost:11434/api/chat", "generic"}, // self-hosted servers: routed by the user
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, tt.url, nil)
		if got := tr.policyFor(req, requestOptions{}).name(); got != tt.want {
			t.Errorf("%s: policy %q, want %q", tt.url, got, tt.want)
		}
	}
	if p1, p2 := routed(tr, "https://api.cerebras.ai/"), routed(tr, "https://api.cerebras.ai/x"); p1 != p2 {
		t.Error("the built-in route must give the same policy (and pacing state) to every request")
	}
	if p1, p2 := routed(tr, "https://eu.openai.azure.com/"), routed(tr, "https://us.openai.azure.com/"); p1 != p2 {
		t.Error("hosts of one pattern must share one policy")
	}
	if p1, p2 := routed(tr, "https://api.cohere.com/"), routed(tr, "https://api.cohere.ai/"); p1 != p2 {
		t.Error("Cohere's two hosts must share one policy")
	}
	explicit := &Transport{Policy: solidRusTPolicy()}
	if got := routed(explicit, "https://api.cerebras.ai/").name(); got != "solidrust" {
		t.Errorf("an explicit Policy must win over the built-in routes, got %q", got)
	}
}

// TestHostPatterns: patterns in Transport.Hosts, exact names first, longer patterns first.
func TestHostPatterns(t *testing.T) {
	t.Parallel()
	exact, long, short := &Policy{Name: "exact"}, &Policy{Name: "long"}, &Policy{Name: "short"}
	tr := &Transport{Policy: genericPolicy(), Hosts: map[string]*Policy{
		"special.openai.azure.com": exact,
		"*.eu.example.com":         long,
		"*.example.com":            short,
		"*-gw.Example.NET":         short,
		"bad*pattern*":             exact, // two stars: ignored
		"nil.example.org":          nil,
	}}
	tests := []struct{ url, want string }{
		{"https://special.openai.azure.com/", "exact"},
		{"https://other.openai.azure.com/", "generic"}, // Policy set: built-in routes do not apply
		{"https://x.eu.example.com/", "long"},
		{"https://eu.example.com/", "short"},
		{"https://x.y.example.com/", "generic"},
		{"https://us-gw.example.net:8443/", "short"},
		{"https://badXpatternY/", "generic"},
		{"https://nil.example.org/", "generic"},
	}
	for _, tt := range tests {
		if got := routed(tr, tt.url).name(); got != tt.want {
			t.Errorf("%s: policy %q, want %q", tt.url, got, tt.want)
		}
	}
}

func routed(tr *Transport, url string) *Policy {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return tr.policyFor(req, requestOptions{})
}

func TestPolicyCloneIsIndependent(t *testing.T) {
	t.Parallel()
	p := gptGobPolicy()
	c := p.Clone()
	c.Codes["gremlin_in_the_pipes"] = Rule{Class: ClassRateLimited, Retry: RetryNever}
	c.MaxRetries = 9
	if p.Codes["gremlin_in_the_pipes"].Retry != RetryDefault || p.MaxRetries != 2 {
		t.Error("changing a clone changed the original")
	}
	if gptGobPolicy().Codes["gremlin_in_the_pipes"].Retry != RetryDefault {
		t.Error("built-in policies must be new on every call")
	}
}

// dRow is a row answered in dialect d.
func dRow(d llmretrytest.Dialect, doc string, e llmretrytest.ErrorReply, class Class, retried bool) providerRow {
	if e.Message == "" {
		e.Message = doc
	}
	return providerRow{doc: doc, step: d.Error(e), class: class, retried: retried}
}

// rawRow is a row answered with exactly this status, headers and body.
func rawRow(doc string, status int, header http.Header, body string, class Class, retried bool, wait time.Duration) providerRow {
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	return providerRow{doc: doc, step: llmretrytest.Step{Status: status, Header: header, Body: []byte(body)},
		class: class, retried: retried, wait: wait}
}

// withWait sets the wait a retried row must use.
func (r providerRow) withWait(d time.Duration) providerRow { r.wait = d; return r }

// sdkDefaults checks a policy's attempts and backoff against its SDK's.
func sdkDefaults(t *testing.T, p *Policy, attempts int, base, maxDelay time.Duration) {
	t.Helper()
	gotBase, gotMax := defaultBaseDelay, defaultMaxDelay
	if p.BaseDelay > 0 {
		gotBase = p.BaseDelay
	}
	if p.MaxDelay > 0 {
		gotMax = p.MaxDelay
	}
	if p.maxRetries()+1 != attempts || gotBase != base || gotMax != maxDelay {
		t.Errorf("%s: %d attempts, backoff %v → %v; want %d attempts, %v → %v", p.Name, p.maxRetries()+1, gotBase, gotMax, attempts, base, maxDelay)
	}
}

// TestSelfHostedRouting: self-hosted servers have no built-in route; a
// user routes them with Hosts, next to the built-in routes.
func TestSelfHostedRouting(t *testing.T) {
	t.Parallel()
	tr := &Transport{Hosts: map[string]*Policy{"localhost": ollamaPolicy(), "gpu1.internal": vllmPolicy(), "tgi.internal": tgiPolicy()}}
	for url, want := range map[string]string{
		"http://localhost:11434/api/chat":                 "ollama",
		"http://gpu1.internal:8000/v1/chat/completions":   "vllm",
		"http://tgi.internal/v1/chat/completions":         "tgi",
		"https://api.cohere.com/v2/chat":                  "cohere",
		"http://gpu2.internal:8000/v1/chat/completions":   "generic",
		"https://api.cloudflare.com/client/v4/accounts/x": "cloudflare",
	} {
		if got := routed(tr, url).name(); got != want {
			t.Errorf("%s: policy %q, want %q", url, got, want)
		}
	}
}

// TestProvider checks that Provider knows every built-in policy by its
// Name, returns a new copy on every call, and nil for a name it does not know.
func TestProvider(t *testing.T) {
	t.Parallel()
	names := []string{"generic", "openai", "azure-openai", "anthropic", "gemini", "bedrock", "groq", "mistral",
		"openrouter", "deepseek", "xai", "together", "fireworks", "cerebras", "sambanova", "cencori", "solidrust",
		"gptgob", "cloudflare", "cohere", "vllm", "tgi", "ollama"}
	all := Policies()
	if len(all) != len(names) {
		t.Fatalf("Policies() has %d policies, want %d", len(all), len(names))
	}
	for i, name := range names {
		p, q := Provider(name), Provider(name)
		if p == nil || p.Name != name || all[i].Name != name {
			t.Errorf("Provider(%q) = %v, Policies()[%d] = %q; want the policy named %q", name, p, i, all[i].Name, name)
			continue
		}
		if p == q {
			t.Errorf("Provider(%q) returned the same policy twice", name)
		}
		if p.Codes != nil {
			p.Codes["x-test"] = Rule{Class: ClassAuth}
			if _, ok := q.Codes["x-test"]; ok {
				t.Errorf("Provider(%q): two calls share their Codes", name)
			}
		}
	}
	for _, name := range []string{"", "OpenAI", "open-ai", "gpt-gob", "unknown"} {
		if p := Provider(name); p != nil {
			t.Errorf("Provider(%q) = %q, want nil", name, p.Name)
		}
	}
}

// TestProviderUnknownInHosts: a nil policy in Transport.Hosts, as
// Provider gives for a name it does not know, fails every request with an
// error naming the key, rather than a panic or a silent generic policy.
func TestProviderUnknownInHosts(t *testing.T) {
	t.Parallel()
	tr, srv, _ := setup(t, nil)
	tr.Hosts = map[string]*Policy{"api.example.com": Provider("openai"), "llm.internal": Provider("opnai")}
	resp, _, err := post(t, tr, srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("RoundTrip succeeded, want the configuration error")
	}
	if !strings.Contains(err.Error(), `Transport.Hosts["llm.internal"] is a nil *Policy`) {
		t.Errorf("err = %v, want it to name the key with the nil policy", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
