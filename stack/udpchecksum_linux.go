package stack

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// setNoUDPChecksum turns the UDP checksum off for the datagrams a socket sends
// (SO_NO_CHECK; IPv4 only: IPv6 requires the checksum).
func setNoUDPChecksum(c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("turning the UDP checksum off (SO_NO_CHECK): %w", serr)
	}
	return nil
}
