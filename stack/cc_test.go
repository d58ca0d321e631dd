package stack

import (
	"errors"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestUsableCongestion: an algorithm the host cannot pin falls back to the
// system default, with a note and the kernel's refusal; reno (always built in,
// always allowed) is pinned as asked; an empty name is the OS's choice.
func TestUsableCongestion(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("per-socket congestion control is Linux-only")
	}
	cc, note, err := UsableCongestion("no-such-algorithm")
	if cc == "no-such-algorithm" || !strings.Contains(note, "cannot be pinned") || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("%q, %q, %v", cc, note, err)
	}
	if cc, note, err := UsableCongestion("reno"); cc != "reno" || note != "" || err != nil {
		t.Errorf("reno: %q, %q, %v", cc, note, err)
	}
	if cc, note, err := UsableCongestion(""); cc != "" || note != "" || err != nil {
		t.Errorf("empty: %q, %q, %v", cc, note, err)
	}
}
