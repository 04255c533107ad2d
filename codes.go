package llmretry

// genericCode maps the error codes and types that OpenAI-compatible APIs share
// to a class. Provider policies add to it and override it with Policy.Codes.
func genericCode(key string) (Class, bool) {
	switch key {
	case "rate_limit_exceeded", "rate_limit_error", "rate_limited", "too_many_requests":
		return RateLimited, true
	case "insufficient_quota", "quota_exceeded", "billing_hard_limit_reached", "insufficient_credits", "payment_required":
		return QuotaExhausted, true
	case "overloaded_error", "overloaded", "service_unavailable", "engine_overloaded":
		return Overloaded, true
	case "server_error", "internal_error", "internal_server_error", "api_error":
		return ServerError, true
	case "request_timeout", "timeout":
		return Timeout, true
	case "invalid_api_key", "authentication_error", "invalid_authentication", "unauthorized":
		return Auth, true
	case "permission_error", "permission_denied", "forbidden":
		return Permission, true
	case "context_length_exceeded", "string_above_max_length":
		return ContextLength, true
	case "content_filter", "content_policy_violation", "safety_filter_triggered":
		return ContentFiltered, true
	case "model_not_found", "not_found_error", "not_found":
		return NotFound, true
	case "conflict_error", "conflict":
		return Conflict, true
	case "invalid_request_error", "validation_error", "invalid_parameter", "bad_request":
		return InvalidRequest, true
	}
	return OK, false
}
