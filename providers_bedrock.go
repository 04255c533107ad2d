package llmretry

import "time"

// Bedrock returns the policy for Amazon Bedrock Runtime
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
func Bedrock() *Policy {
	return &Policy{
		Name:     "bedrock",
		MaxDelay: 20 * time.Second,
		Codes: map[string]Rule{
			"throttlingexception":           {Class: RateLimited},
			"serviceunavailableexception":   {Class: Overloaded},
			"modelnotreadyexception":        {Class: ModelOverloaded},
			"modeltimeoutexception":         {Class: Timeout},
			"internalserverexception":       {Class: ServerError},
			"modelstreamerrorexception":     {Class: ServerError},
			"modelerrorexception":           {Class: ServerError, Retry: RetryNever}, // 424: not retried by the SDKs
			"validationexception":           {Class: InvalidRequest},
			"accessdeniedexception":         {Class: Permission},
			"resourcenotfoundexception":     {Class: NotFound},
			"servicequotaexceededexception": {Class: QuotaExhausted},
			"conflictexception":             {Class: Conflict},
			"unrecognizedclientexception":   {Class: Auth},
			"expiredtokenexception":         {Class: Auth},
		},
		Statuses: map[int]Rule{
			424: {Class: ServerError, Retry: RetryNever},
		},
	}
}
