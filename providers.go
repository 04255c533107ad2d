package llmretry

import "time"

// Each built-in policy maps every status, type and code that its provider's
// published error reference lists; where the reference is silent, the
// generic rules apply. Every constructor returns a new Policy, so a caller
// can change it (p.Codes["x"] = Rule{…}) without affecting anyone else.

// Generic returns the policy for any OpenAI-compatible API: 2 retries,
// exponential backoff from 0.5 s to 8 s with equal jitter, server hints up to
// 60 s, and the generic code table (rate_limit_exceeded is retried;
// insufficient_quota and quota_exceeded are not).
func Generic() *Policy {
	return &Policy{Name: "generic"}
}

// GPTGob returns the policy for GPT-Gob. Its SDK makes 3 attempts with a 1 s
// base delay and honors the body's retry_after. 429 rate_limit_exceeded
// (gremlin_in_the_pipes for requests/min, too_many_tokens for tokens/min) is
// retried, 429 quota_exceeded (no_treasure_in_hoard) is not; 502, 503 and 504
// are retried; horde_unavailable is the overload of one model tier
// (ModelOverloaded: another model may answer now).
func GPTGob() *Policy {
	return &Policy{
		Name:       "gptgob",
		MaxRetries: 2,
		BaseDelay:  time.Second,
		Codes: map[string]Rule{
			// Types.
			"invalid_request_error": {Class: InvalidRequest},
			"authentication_error":  {Class: Auth},
			"permission_error":      {Class: Permission},
			"not_found_error":       {Class: NotFound},
			"conflict_error":        {Class: Conflict},
			"validation_error":      {Class: InvalidRequest},
			"rate_limit_exceeded":   {Class: RateLimited},
			"quota_exceeded":        {Class: QuotaExhausted},
			"server_error":          {Class: ServerError},
			"upstream_error":        {Class: ServerError},
			"service_unavailable":   {Class: Overloaded},
			"request_timeout":       {Class: Timeout},
			// Codes.
			"invalid_api_key":         {Class: Auth},
			"expired_api_key":         {Class: Auth},
			"revoked_api_key":         {Class: Auth},
			"wrong_password_to_cave":  {Class: Auth},
			"scope_required":          {Class: Permission},
			"model_not_found":         {Class: NotFound},
			"context_length_exceeded": {Class: ContextLength},
			"invalid_mining_depth":    {Class: InvalidRequest},
			"gremlin_in_the_pipes":    {Class: RateLimited},
			"too_many_tokens":         {Class: RateLimited},
			"no_treasure_in_hoard":    {Class: QuotaExhausted},
			"cave_collapsed":          {Class: ServerError},
			"horde_unavailable":       {Class: ModelOverloaded},
			"goblin_distracted":       {Class: ServerError},
			"safety_filter_triggered": {Class: ContentFiltered},
		},
	}
}

// Cerebras returns the policy for the Cerebras Inference API, following its
// SDK: connection errors, 408, 429 and every status ≥ 500 are retried,
// 2 retries, and an attempt times out after 60 s. 402 is payment required
// (QuotaExhausted), not retried.
func Cerebras() *Policy {
	return &Policy{
		Name:           "cerebras",
		MaxRetries:     2,
		AttemptTimeout: 60 * time.Second,
		Statuses: map[int]Rule{
			400: {Class: InvalidRequest},
			401: {Class: Auth},
			402: {Class: QuotaExhausted},
			403: {Class: Permission},
			404: {Class: NotFound},
			408: {Class: Timeout},
			422: {Class: InvalidRequest},
			429: {Class: RateLimited},
			500: {Class: ServerError},
			501: {Class: ServerError}, // "≥ 500 internal errors" are all retried
			503: {Class: Overloaded},
			505: {Class: ServerError},
		},
	}
}

// SambaNova returns the policy for SambaNova Cloud. 408 request_timeout is
// retried; 429 insufficient_quota is documented as rate limiting by
// subscription tier, so it is retried with backoff (elsewhere the same code
// means an exhausted billing quota).
func SambaNova() *Policy {
	return &Policy{
		Name: "sambanova",
		Codes: map[string]Rule{
			"context_length_exceeded": {Class: ContextLength},
			"invalid_type":            {Class: InvalidRequest},
			"decimal_above_max_value": {Class: InvalidRequest},
			"decimal_below_min_value": {Class: InvalidRequest},
			"integer_above_max_value": {Class: InvalidRequest},
			"integer_below_min_value": {Class: InvalidRequest},
			"model_not_found":         {Class: NotFound},
			"invalid_authentication":  {Class: Auth},
			"request_timeout":         {Class: Timeout},
			"insufficient_quota":      {Class: RateLimited},
		},
	}
}

// Cencori returns the policy for Cencori, whose errors are flat:
// {"error":"…","code":"…","status":N,"details":{}}. INSUFFICIENT_CREDITS (403)
// is an exhausted quota and SECURITY_VIOLATION (403) a content filter, neither
// retried; RATE_LIMIT_EXCEEDED (429) and PROVIDER_ERROR (503) are retried,
// honoring Retry-After and X-RateLimit-Reset (a Unix timestamp).
func Cencori() *Policy {
	return &Policy{
		Name: "cencori",
		Codes: map[string]Rule{
			"invalid_api_key":      {Class: Auth},
			"security_violation":   {Class: ContentFiltered},
			"rate_limit_exceeded":  {Class: RateLimited},
			"insufficient_credits": {Class: QuotaExhausted},
			"provider_error":       {Class: Overloaded},
		},
		Statuses: map[int]Rule{
			403: {Class: Permission},
			503: {Class: Overloaded},
		},
	}
}

// SolidRusT returns the policy for the SolidRusT AI API (OpenAI-style nested
// errors). Its 429 states the wait only in the message ("Please retry after
// 60 seconds."), so MaxWait is 90 s to honor it; following its documented
// retry strategy, a request is tried up to 5 times with a 1 s base delay.
func SolidRusT() *Policy {
	return &Policy{
		Name:       "solidrust",
		MaxRetries: 4,
		BaseDelay:  time.Second,
		MaxWait:    90 * time.Second,
		Codes: map[string]Rule{
			"authentication_error":  {Class: Auth},
			"invalid_api_key":       {Class: Auth},
			"rate_limit_error":      {Class: RateLimited},
			"rate_limit_exceeded":   {Class: RateLimited},
			"invalid_request_error": {Class: InvalidRequest},
			"invalid_parameter":     {Class: InvalidRequest},
		},
		Statuses: map[int]Rule{
			503: {Class: Overloaded},
		},
	}
}

// Policies returns every built-in policy, the generic one first.
func Policies() []*Policy {
	return []*Policy{Generic(), GPTGob(), Cerebras(), SambaNova(), Cencori(), SolidRusT()}
}

// DefaultHosts returns the built-in routes from API host names to policies,
// for the providers whose API host is well known. A [Transport] without a
// Policy uses them; route other hosts (a GPT-Gob or Cencori endpoint, a
// proxy) with Transport.Hosts. The map and its policies are new on every call.
func DefaultHosts() map[string]*Policy {
	return map[string]*Policy{
		"api.cerebras.ai":  Cerebras(),
		"api.sambanova.ai": SambaNova(),
		"api.solidrust.ai": SolidRusT(),
	}
}
