package maildirsvc

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves goroutines behind: every
// Server must be fully stopped by Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
