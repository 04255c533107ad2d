package llmretrytest

import (
	"net/http"
	"strconv"
	"strings"
)

// geminiFormat writes Google's error: {"error":{"code":N,"message","status",
// "details":[ErrorInfo, QuotaFailure, Help, RetryInfo]}}. The wait is only
// in RetryInfo's retryDelay (and the message); Google sends no Retry-After.
var geminiFormat = format{
	name: "gemini",
	body: func(e ErrorReply, h http.Header) any {
		status := e.Type
		if status == "" {
			status = googleStatus(e.Status)
		}
		var details []any
		if e.Code != "" {
			details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
				"reason": e.Code, "domain": "googleapis.com", "metadata": map[string]any{"service": "generativelanguage.googleapis.com"}})
		}
		if e.Quota != "" {
			value := "10"
			if strings.Contains(e.Message, "limit: 0") {
				value = "0"
			}
			details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
				"violations": []any{map[string]any{
					"quotaMetric":     "generativelanguage.googleapis.com/generate_content_free_tier_requests",
					"quotaId":         e.Quota,
					"quotaDimensions": map[string]any{"location": "global", "model": "gemini-2.5-flash"},
					"quotaValue":      value,
				}}},
				map[string]any{"@type": "type.googleapis.com/google.rpc.Help",
					"links": []any{map[string]any{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}}})
		}
		if e.RetryAfter > 0 {
			details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": strconv.Itoa(e.RetryAfter) + "s"})
		}
		inner := map[string]any{"code": e.Status, "message": e.Message, "status": status}
		if details != nil {
			inner["details"] = details
		}
		h.Set("Content-Type", "application/json; charset=UTF-8")
		return map[string]any{"error": inner}
	},
	rateLimit: func(n int) *ErrorReply {
		return &ErrorReply{Status: 429, Type: "RESOURCE_EXHAUSTED", Quota: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", RetryAfter: n,
			Message: "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
				"head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: " +
				"generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash\nPlease retry in " + strconv.Itoa(n) + "s."}
	},
	quota: func() *ErrorReply {
		// Google attaches a RetryInfo even to a per-day quota; it only ends the minute.
		return &ErrorReply{Status: 429, Type: "RESOURCE_EXHAUSTED", Quota: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", RetryAfter: 37,
			Message: "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
				"head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: " +
				"generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 250, model: gemini-2.5-flash\nPlease retry in 37s."}
	},
	overloaded: func(n int) *ErrorReply {
		return &ErrorReply{Status: 503, Type: "UNAVAILABLE", Message: "The model is overloaded. Please try again later.", RetryAfter: n}
	},
	serverError: func() *ErrorReply {
		return &ErrorReply{Status: 500, Type: "INTERNAL", Message: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"}
	},
}

// googleStatus is the canonical status Google writes for an HTTP status.
func googleStatus(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}
