package tcp

import (
	"context"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// WaitSent waits until the kernel has sent every byte written to conn at least
// once (SIOCOUTQNSD: nothing left unsent), so that a FIN sent next leaves at
// once instead of queueing behind the send buffer. It reports false when it
// cannot tell (not a kernel socket), or the timeout passed or ctx ended first.
func WaitSent(ctx context.Context, conn net.Conn, timeout time.Duration) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	deadline := time.Now().Add(timeout)
	for {
		unsent := -1
		_ = raw.Control(func(fd uintptr) {
			if n, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQNSD); err == nil {
				unsent = n
			}
		})
		switch {
		case unsent < 0:
			return false
		case unsent == 0:
			return true
		case time.Now().After(deadline), ctx.Err() != nil:
			return false
		}
		time.Sleep(200 * time.Microsecond)
	}
}
