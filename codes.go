package llmretry

// genericCode maps the error codes and types that many APIs share, and the
// ones that no two APIs use for different things, to a class: OpenAI-style
// codes, Anthropic's error types, Google's canonical statuses and ErrorInfo
// reasons, and AWS exception names (x-amzn-ErrorType). Proxies and gateways
// pass these through, so the generic policy knows them all. Provider
// policies add to it and override it with Policy.Codes. Keys are lower case.
func genericCode(key string) (Class, bool) {
	switch key {
	case "rate_limit_exceeded", "rate_limit_error", "rate_limited", "too_many_requests", "too_many_requests_error",
		"resource_exhausted",                               // Google
		"dynamic_request_limited", "dynamic_token_limited", // Together
		"throttlingexception", "throttling", "throttledexception", "toomanyrequestsexception",
		"requestlimitexceeded", "requestthrottledexception", "requestthrottled": // AWS SDKs' throttle codes
		return ClassRateLimited, true
	case "insufficient_quota", "quota_exceeded", "billing_hard_limit_reached", "insufficient_credits", "payment_required",
		"billing_error", "enforced_spend_limit_reached", // Anthropic
		"billing_disabled",              // Google ErrorInfo
		"servicequotaexceededexception": // AWS
		return ClassQuotaExhausted, true
	case "overloaded_error", "overloaded", "service_unavailable", "engine_overloaded",
		"unavailable",                                       // Google
		"capacity_exceeded",                                 // Groq flex tier
		"serviceunavailableexception", "serviceunavailable": // AWS
		return ClassOverloaded, true
	case "model_capacity_exhausted", // Google ErrorInfo
		"service_tier_capacity_exceeded", // Mistral
		"modelnotreadyexception":         // Bedrock
		return ClassModelOverloaded, true
	case "server_error", "internal_error", "internal_server_error", "api_error",
		"internal", "data_loss", // Google
		"internalserverexception", "internalfailure", "modelstreamerrorexception", "modelerrorexception": // AWS
		return ClassServerError, true
	case "request_timeout", "timeout", "timeout_error",
		"deadline_exceeded",                                                  // Google
		"modeltimeoutexception", "requesttimeout", "requesttimeoutexception": // AWS
		return ClassTimeout, true
	case "invalid_api_key", "authentication_error", "invalid_authentication", "unauthorized",
		"unauthenticated", "api_key_invalid", "access_token_expired", // Google
		"unrecognizedclientexception", "invalidsignatureexception", "expiredtokenexception",
		"incompletesignature", "missingauthenticationtoken", "invalidclienttokenid": // AWS
		return ClassAuth, true
	case "permission_error", "permission_denied", "forbidden",
		"service_disabled", "consumer_suspended", "api_key_service_blocked", // Google ErrorInfo
		"unsupported_country_region_territory", // OpenAI
		"accessdeniedexception":                // AWS
		return ClassPermission, true
	case "context_length_exceeded", "string_above_max_length":
		return ClassContextLength, true
	case "content_filter", "content_policy_violation", "safety_filter_triggered",
		"responsibleaipolicyviolation": // Azure
		return ClassContentFiltered, true
	case "model_not_found", "not_found_error", "not_found",
		"deploymentnotfound",        // Azure
		"resourcenotfoundexception": // AWS
		return ClassNotFound, true
	case "conflict_error", "conflict",
		"aborted", "already_exists", // Google
		"conflictexception": // AWS
		return ClassConflict, true
	case "invalid_request_error", "validation_error", "invalid_parameter", "bad_request",
		"request_too_large",                                                        // Anthropic
		"invalid_argument", "failed_precondition", "out_of_range", "unimplemented", // Google
		"validationexception": // AWS
		return ClassInvalidRequest, true
	}
	return ClassOK, false
}
