//go:build !linux

package stack

import (
	"errors"
	"syscall"
)

// setNoUDPChecksum fails: only Linux lets a socket send without a UDP checksum.
func setNoUDPChecksum(syscall.RawConn) error {
	return errors.New("sending UDP without a checksum needs Linux (SO_NO_CHECK) or the netstack emulator")
}
