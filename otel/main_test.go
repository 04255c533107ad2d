package llmretryotel_test

import (
	"testing"

	"github.com/llmretry/llmretry/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
