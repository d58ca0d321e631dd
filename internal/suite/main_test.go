package suite

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the suite if a test leaves a goroutine behind: every
// Network's sockets, servers and links must end with the test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
