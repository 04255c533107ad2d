package llmretry

// ollamaPolicy returns the policy for an Ollama server (ollama serve, port 11434,
// native /api/… or OpenAI-compatible /v1/…), whose errors are
// {"error":"message"} with no type or code: the status decides. 400 and
// 404 are not retried; 429 (a rate limit), 500, 502 (a cloud model cannot
// be reached) and 503 (the queue is full: "server busy, please try again.
// maximum pending requests exceeded", see OLLAMA_MAX_QUEUE) are. A 429 that
// names a window of a day or longer (the cloud's weekly usage limit) and
// gives no wait is an exhausted quota, not retried. An error after the
// stream has begun arrives as an {"error"} line in a 200 stream, which the
// Transport cannot see (only an event stream's first event is read).
//
// A self-hosted server has no well-known host: route yours with
// Transport.Hosts, e.g. Hosts: map[string]*llmretry.Policy{"localhost":
// llmretry.Provider("ollama")} (a host name without a port; requests to any port
// match), or set Transport.Policy.
func ollamaPolicy() *Policy {
	// The errors page's statuses and the scheduler's 503, spelled out: they
	// are the generic rules.
	return &Policy{
		Name: "ollama",
		Statuses: map[int]Rule{
			400: {Class: ClassInvalidRequest},
			404: {Class: ClassNotFound},
			429: {Class: ClassRateLimited},
			500: {Class: ClassServerError},
			502: {Class: ClassServerError},
			503: {Class: ClassOverloaded},
		},
	}
}
