package llmretry

// Decision is what the Transport did after an attempt ([AttemptInfo].Decision),
// and on an [APIError] the decision that ended the call: why the Transport
// stopped and returned that answer ([APIError].Decision).
type Decision uint8

const (
	DecisionSuccess            Decision = iota // the response is not an error: returned
	DecisionRetry                              // another attempt follows after Wait
	DecisionNotRetryable                       // the answer is not worth retrying: returned
	DecisionRetriesExhausted                   // MaxRetries reached: the last answer is returned
	DecisionHintTooLong                        // the server asked to wait longer than MaxWait: returned now
	DecisionPastDeadline                       // the wait would end after the context's deadline: returned now
	DecisionNotReplayable                      // the request body cannot be sent again: returned
	DecisionBudgetExhausted                    // the retry budget is spent and the deadline comes before a turn to retry (a wide outage): returned
	DecisionContextDone                        // the caller's context ended or its deadline passed
	DecisionFallback                           // the next attempt goes to the next fallback target, at once
	DecisionFallbacksExhausted                 // only on APIError: the answer called for the next fallback target, and none was left (or none fit the request)
)

var decisionNames = [...]string{"success", "retry", "not_retryable", "retries_exhausted", "hint_too_long", "past_deadline", "not_replayable", "budget_exhausted", "context_done", "fallback", "fallbacks_exhausted"}

// String returns the decision's name, e.g. "retries_exhausted".
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "unknown"
}
