//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package port

import (
	"os"
	"strconv"
)

// holdFD makes the socket s describes and returns it as a file.
func holdFD(s sockSpec) (*os.File, error) {
	fd, err := sockFD(s)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), string(s.proto)+":"+strconv.Itoa(int(s.addr.Port()))), nil
}

// heldPort is the local port of a held socket (the one the OS chose for 0).
func heldPort(f *os.File) int { return fdPort(int(f.Fd())) }
