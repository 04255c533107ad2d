// Package integration tests llmretry under real SDKs — openai-go v3,
// go-openai and anthropic-sdk-go v2 — against the llmretrytest fake provider.
// It is its own module so that the core module does not depend on any SDK;
// it has no API and nobody imports it.
package integration
