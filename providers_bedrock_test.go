package llmretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmretry/llmretry/llmretrytest"
)

func bedrockRow(doc string, status int, exception string, class Class, retried bool) providerRow {
	return dRow(llmretrytest.Dialect("bedrock"), doc, llmretrytest.ErrorReply{Status: status, Code: exception}, class, retried)
}

// TestBedrock covers the InvokeModel and Converse "Errors" sections of the
// Amazon Bedrock API reference (each exception with its HTTP status), the
// ResponseStream reference, and the AWS SDKs' standard retry mode.
func TestBedrock(t *testing.T) {
	t.Parallel()
	b := llmretrytest.Dialect("bedrock")
	rows := []providerRow{
		// "AccessDeniedException: The request is denied because you do not have sufficient permissions … HTTP Status Code: 403"
		bedrockRow("AccessDeniedException 403", 403, "AccessDeniedException", ClassPermission, false),
		// "InternalServerException: An internal server error occurred. Retry your request. HTTP Status Code: 500"
		{doc: "InternalServerException 500", step: b.ServerError(), class: ClassServerError, retried: true, requestID: true},
		// "ModelErrorException: The request failed due to an error while processing the model. HTTP Status Code: 424"
		bedrockRow("ModelErrorException 424", 424, "ModelErrorException", ClassServerError, false),
		// "ModelNotReadyException: The model specified in the request is not ready to serve inference requests.
		// The AWS SDK will automatically retry the operation up to 5 times. HTTP Status Code: 429"
		bedrockRow("ModelNotReadyException 429", 429, "ModelNotReadyException", ClassModelOverloaded, true),
		// "ModelTimeoutException: The request took too long to process. … HTTP Status Code: 408"
		bedrockRow("ModelTimeoutException 408", 408, "ModelTimeoutException", ClassTimeout, true),
		// "modelStreamErrorException: An error occurred while streaming the response. Retry your request. HTTP Status Code: 424"
		bedrockRow("ModelStreamErrorException 424", 424, "ModelStreamErrorException", ClassServerError, true),
		// "ResourceNotFoundException: The specified resource ARN was not found. … HTTP Status Code: 404"
		bedrockRow("ResourceNotFoundException 404", 404, "ResourceNotFoundException", ClassNotFound, false),
		// "ServiceQuotaExceededException: Your request exceeds the service quota for your account. … HTTP Status Code: 400"
		bedrockRow("ServiceQuotaExceededException 400", 400, "ServiceQuotaExceededException", ClassQuotaExhausted, false),
		// "ServiceUnavailableException: The service isn't currently available. … HTTP Status Code: 503"
		{doc: "ServiceUnavailableException 503", step: b.Overloaded(0), class: ClassOverloaded, retried: true},
		// "ThrottlingException: Your request was denied due to exceeding the account quotas … HTTP Status Code: 429"
		{doc: "ThrottlingException 429", step: b.RateLimit(0), class: ClassRateLimited, retried: true, requestID: true},
		// "ValidationException: The input fails to satisfy the constraints specified by Amazon Bedrock. … HTTP Status Code: 400"
		bedrockRow("ValidationException 400", 400, "ValidationException", ClassInvalidRequest, false),
		// "Too many tokens per day, please wait before trying again." — a daily quota: not back in seconds.
		{doc: "ThrottlingException: Too many tokens per day", step: b.QuotaExhausted(), class: ClassQuotaExhausted},
		// The same exception named in an AWS JSON __type instead of the header.
		rawRow("__type com.amazon.coral.service#ThrottlingException", 400, nil,
			`{"__type":"com.amazon.coral.service#ThrottlingException","message":"Rate exceeded"}`, ClassRateLimited, true, 0),
		// "UnrecognizedClientException: The security token included in the request is invalid." (403)
		rawRow("UnrecognizedClientException 403", 403, http.Header{"X-Amzn-Errortype": {"UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/"}},
			`{"message":"The security token included in the request is invalid."}`, ClassAuth, false, 0),
	}
	runRows(t, bedrockPolicy, rows)
	// AWS SDKs' standard retry mode: 3 attempts, backoff capped at 20 s.
	sdkDefaults(t, bedrockPolicy(), 3, defaultBaseDelay, 20*time.Second)
}
