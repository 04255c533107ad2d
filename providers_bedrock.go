package llmretry

import "time"

// bedrockPolicy returns the policy for Amazon Bedrock Runtime
// (bedrock-runtime.REGION.amazonaws.com), which names the error in the
// x-amzn-ErrorType header over a bare {"message":…} body. Following the AWS
// SDKs' standard retry mode: 3 attempts, backoff capped at 20 s; throttling
// (ThrottlingException, 429), ServiceUnavailableException (503),
// ModelNotReadyException (429, "the AWS SDK will automatically retry"),
// ModelTimeoutException (408), InternalServerException (500) and
// ModelStreamErrorException (424) are retried; ModelErrorException (424),
// ValidationException, AccessDeniedException, ResourceNotFoundException and
// ServiceQuotaExceededException are not. Bedrock gives no wait hint; "Too
// many tokens per day" is an exhausted daily quota, not retried.
func bedrockPolicy() *Policy {
	return &Policy{
		Name:     "bedrock",
		MaxDelay: 20 * time.Second,
		Codes: map[string]Rule{
			"throttlingexception":           {Class: ClassRateLimited},
			"serviceunavailableexception":   {Class: ClassOverloaded},
			"modelnotreadyexception":        {Class: ClassModelOverloaded},
			"modeltimeoutexception":         {Class: ClassTimeout},
			"internalserverexception":       {Class: ClassServerError},
			"modelstreamerrorexception":     {Class: ClassServerError},
			"modelerrorexception":           {Class: ClassServerError, Retry: RetryNever}, // 424: not retried by the SDKs
			"validationexception":           {Class: ClassInvalidRequest},
			"accessdeniedexception":         {Class: ClassPermission},
			"resourcenotfoundexception":     {Class: ClassNotFound},
			"servicequotaexceededexception": {Class: ClassQuotaExhausted},
			"conflictexception":             {Class: ClassConflict},
			"unrecognizedclientexception":   {Class: ClassAuth},
			"expiredtokenexception":         {Class: ClassAuth},
		},
		Statuses: map[int]Rule{
			424: {Class: ClassServerError, Retry: RetryNever},
		},
	}
}
