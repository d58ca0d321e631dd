//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package port

import "os/exec"

// ActivationCommand: socket activation (descriptors 3, 4, ... and
// LISTEN_FDS) is a Unix protocol; not available on this OS.
func ActivationCommand([]Held, string, []string) (*exec.Cmd, error) { return nil, errNotAvailable }

// BecomeActivated does nothing on this OS.
func BecomeActivated() {}
