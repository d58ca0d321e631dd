//go:build linux || freebsd || netbsd || openbsd || dragonfly

package port

import "golang.org/x/sys/unix"

// newSocket makes a close-on-exec socket in one call.
func newSocket(family, typ int) (int, error) {
	return unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
}
