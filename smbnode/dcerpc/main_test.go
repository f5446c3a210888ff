package dcerpc

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind (the TCP
// listener of the Samba client test).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
