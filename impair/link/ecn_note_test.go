package link

import (
	"strings"
	"testing"

	"github.com/netduel/netduel/impair"
)

// TestNetstackECNNote: ecn on netstack marks nothing (gVisor's TCP does not
// negotiate ECN), and the link says so rather than silently dropping as
// without it.
func TestNetstackECNNote(t *testing.T) {
	t.Parallel()
	l, err := Open(Netstack, impair.Config{Loss: impair.RandomLoss(0.05), ECN: true, Seed: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.Contains(l.Note, "ecn marks nothing on netstack") {
		t.Fatalf("note %q", l.Note)
	}
}
