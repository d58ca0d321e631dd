package port

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// newSocket makes a close-on-exec socket. macOS has no SOCK_CLOEXEC: hold
// ForkLock so no child inherits the descriptor before it is marked.
func newSocket(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, typ, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}
