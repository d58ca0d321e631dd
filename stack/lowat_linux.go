package stack

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// SetRecvLowat sets an OS TCP socket's SO_RCVLOWAT: the kernel wakes a reader
// waiting in the netpoller only once n bytes are queued (or the stream ends,
// or the receive window runs low), and setting it wakes one at once if that
// many already are. It reports false, changing nothing, for other
// connections (netstack's, other systems).
func SetRecvLowat(c any, n int) bool {
	if n < 1 {
		return false
	}
	var serr error
	if !withFD(c, func(fd int) { serr = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT, n) }) {
		return false
	}
	return serr == nil
}

// HasUnread reports whether an OS TCP socket has bytes received and not yet
// read (SIOCINQ); false for other connections (netstack's, other systems).
func HasUnread(c any) bool {
	n := 0
	withFD(c, func(fd int) { n, _ = unix.IoctlGetInt(fd, unix.SIOCINQ) })
	return n > 0
}

// withFD runs fn on an OS socket's descriptor, and reports false (fn not
// run) for connections without one.
func withFD(c any, fn func(fd int)) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) }) == nil
}
