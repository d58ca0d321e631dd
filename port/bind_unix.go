//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package port

import (
	"errors"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// socket is a socket made by openSocket, held until close.
type socket struct {
	fd   int
	spec sockSpec
}

// listenBacklog is the backlog of listeners made here: the SO_REUSEPORT
// experiment queues its connections before accepting them.
const listenBacklog = 512

// openSocket makes the socket s describes: socket, setsockopt, bind and, for a
// listener, listen. Errors are *os.SyscallError naming the failing call.
func openSocket(s sockSpec) (*socket, error) {
	fd, err := sockFD(s)
	if err != nil {
		return nil, err
	}
	return &socket{fd: fd, spec: s}, nil
}

// tryBind makes the socket s describes and closes it at once.
func tryBind(s sockSpec) error {
	fd, err := sockFD(s)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}

func sockFD(s sockSpec) (int, error) {
	sa := sockaddrOf(s.addr)
	family := unix.AF_INET
	if _, v6 := sa.(*unix.SockaddrInet6); v6 {
		family = unix.AF_INET6
	}
	typ := unix.SOCK_DGRAM
	if s.proto == TCP {
		typ = unix.SOCK_STREAM
	}
	fd, err := newSocket(family, typ)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	fail := func(op string, err error) (int, error) {
		unix.Close(fd)
		return -1, os.NewSyscallError(op, err)
	}
	if family == unix.AF_INET6 && boolInt(s.v6only) != defaultV6Only() {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(s.v6only)); err != nil {
			return fail("setsockopt IPV6_V6ONLY", err)
		}
	}
	if s.reuseAddr {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fail("setsockopt SO_REUSEADDR", err)
		}
	}
	if s.reusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail("setsockopt SO_REUSEPORT", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if s.listen {
		if err := unix.Listen(fd, listenBacklog); err != nil {
			return fail("listen", err)
		}
	}
	return fd, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// close releases the socket.
func (s *socket) close() error { return unix.Close(s.fd) }

// port returns the socket's local port (the one the OS chose for port 0).
func (s *socket) port() int { return fdPort(s.fd) }

// fdPort returns the local port of socket fd, 0 if it has none.
func fdPort(fd int) int {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return sa.Port
	case *unix.SockaddrInet6:
		return sa.Port
	}
	return 0
}

// classifyErrno maps the errno behind err to a State.
func classifyErrno(err error) (State, string, bool) {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return "", err.Error(), false
	}
	name := unix.ErrnoName(errno)
	switch errno {
	case unix.EADDRINUSE:
		return StateInUse, name, true
	case unix.EACCES, unix.EPERM:
		return StateDenied, name, true
	case unix.EADDRNOTAVAIL, unix.EAFNOSUPPORT, unix.EPROTONOSUPPORT:
		return StateUnavailable, name, true
	}
	return "", name, false
}

// sockaddrOf converts an address to a unix.Sockaddr.
func sockaddrOf(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}

// drain takes what is waiting on the socket without blocking and returns how
// many: for a TCP listener, the connections in its accept queue (each closed at
// once, with SO_LINGER 0 when linger0 is set so no TIME_WAIT is left behind);
// for UDP, the datagrams in its receive queue.
func (s *socket) drain(linger0 bool) (int, error) {
	n := 0
	buf := make([]byte, 2048)
	for {
		if s.spec.proto == UDP {
			_, _, err := unix.Recvfrom(s.fd, buf, unix.MSG_DONTWAIT)
			if err == unix.EAGAIN || err == unix.EWOULDBLOCK {
				return n, nil
			}
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return n, os.NewSyscallError("recvfrom", err)
			}
			n++
			continue
		}
		if err := unix.SetNonblock(s.fd, true); err != nil {
			return n, os.NewSyscallError("fcntl", err)
		}
		cfd, _, err := unix.Accept(s.fd)
		if err == unix.EAGAIN || err == unix.EWOULDBLOCK {
			return n, nil
		}
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return n, os.NewSyscallError("accept", err)
		}
		if linger0 {
			_ = unix.SetsockoptLinger(cfd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		}
		unix.Close(cfd)
		n++
	}
}
