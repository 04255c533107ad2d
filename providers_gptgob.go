package llmretry

import "time"

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
