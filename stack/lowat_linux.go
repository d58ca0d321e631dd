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
	sc, ok := c.(syscall.Conn)
	if !ok || n < 1 {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n)
	}); err != nil {
		return false
	}
	return serr == nil
}

// HasUnread reports whether an OS TCP socket has bytes received and not yet
// read (SIOCINQ); false for other connections (netstack's, other systems).
func HasUnread(c any) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	return n > 0
}
