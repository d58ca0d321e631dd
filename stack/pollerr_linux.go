package stack

import (
	"errors"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollError turns the netpoller's "not pollable" into what it means: the
// runtime saw EPOLLERR on the socket (for UDP, an ICMP error such as port
// unreachable, which a send may already have taken), and a read waiting
// in the netpoller then fails with internal/poll's ErrNotPollable, whose
// text ("raw-read udp ...: not pollable") says nothing of the cause. The
// socket's pending error (SO_ERROR) is returned when there is one; any
// other error is returned as it is.
func (b *Blocking) pollError(err error) error {
	if !strings.HasSuffix(err.Error(), "not pollable") {
		return err
	}
	errn := syscall.Errno(0)
	_ = b.rc.Control(func(fd uintptr) {
		if v, e := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); e == nil {
			errn = syscall.Errno(v)
		}
	})
	if errn != 0 {
		return b.opError(errn)
	}
	return b.opError(errSocketError)
}

// errSocketError is a read's error when the socket reported an error that
// a send already took.
var errSocketError = errors.New("the socket reported an error, such as an ICMP port unreachable from the peer (has it stopped?)")
