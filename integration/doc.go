// Package integration tests llmretry under real SDKs — openai-go, go-openai
// and anthropic-sdk-go — against the llmretrytest fake provider. It is its
// own module so that the core module does not depend on any SDK.
package integration
