package llmretry

import "time"

// gptGobPolicy returns the policy for GPT-Gob. Its SDK makes 3 attempts with a 1 s
// base delay and honors the body's retry_after. 429 rate_limit_exceeded
// (gremlin_in_the_pipes for requests/min, too_many_tokens for tokens/min) is
// retried, 429 quota_exceeded (no_treasure_in_hoard) is not; 502, 503 and 504
// are retried; horde_unavailable is the overload of one model tier
// (ModelOverloaded: another model may answer now).
func gptGobPolicy() *Policy {
	return &Policy{
		Name:       "gptgob",
		MaxRetries: 2,
		BaseDelay:  time.Second,
		Codes: map[string]Rule{
			// Types.
			"invalid_request_error": {Class: ClassInvalidRequest},
			"authentication_error":  {Class: ClassAuth},
			"permission_error":      {Class: ClassPermission},
			"not_found_error":       {Class: ClassNotFound},
			"conflict_error":        {Class: ClassConflict},
			"validation_error":      {Class: ClassInvalidRequest},
			"rate_limit_exceeded":   {Class: ClassRateLimited},
			"quota_exceeded":        {Class: ClassQuotaExhausted},
			"server_error":          {Class: ClassServerError},
			"upstream_error":        {Class: ClassServerError},
			"service_unavailable":   {Class: ClassOverloaded},
			"request_timeout":       {Class: ClassTimeout},
			// Codes.
			"invalid_api_key":         {Class: ClassAuth},
			"expired_api_key":         {Class: ClassAuth},
			"revoked_api_key":         {Class: ClassAuth},
			"wrong_password_to_cave":  {Class: ClassAuth},
			"scope_required":          {Class: ClassPermission},
			"model_not_found":         {Class: ClassNotFound},
			"context_length_exceeded": {Class: ClassContextLength},
			"invalid_mining_depth":    {Class: ClassInvalidRequest},
			"gremlin_in_the_pipes":    {Class: ClassRateLimited},
			"too_many_tokens":         {Class: ClassRateLimited},
			"no_treasure_in_hoard":    {Class: ClassQuotaExhausted},
			"cave_collapsed":          {Class: ClassServerError},
			"horde_unavailable":       {Class: ClassModelOverloaded},
			"goblin_distracted":       {Class: ClassServerError},
			"safety_filter_triggered": {Class: ClassContentFiltered},
		},
	}
}
