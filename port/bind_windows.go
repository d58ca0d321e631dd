package port

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/windows"
)

// On Windows sockets come from net.ListenConfig, with a Control function that
// sets the options before bind: TCP sockets are always listeners.

// socket is a socket made by openSocket, held until close.
type socket struct {
	c    io.Closer
	addr net.Addr
	spec sockSpec
}

func openSocket(s sockSpec) (*socket, error) {
	if s.reusePort {
		return nil, errNotAvailable
	}
	network := string(s.proto)
	switch {
	case s.addr.Addr().Is4():
		network += "4"
	case s.v6only:
		network += "6"
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if s.reuseAddr {
				serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	address := net.JoinHostPort(s.addr.Addr().String(), strconv.Itoa(int(s.addr.Port())))
	if s.proto == TCP {
		ln, err := lc.Listen(context.Background(), network, address)
		if err != nil {
			return nil, err
		}
		return &socket{c: ln, addr: ln.Addr(), spec: s}, nil
	}
	pc, err := lc.ListenPacket(context.Background(), network, address)
	if err != nil {
		return nil, err
	}
	return &socket{c: pc, addr: pc.LocalAddr(), spec: s}, nil
}

func tryBind(s sockSpec) error {
	sock, err := openSocket(s)
	if err != nil {
		return err
	}
	return sock.close()
}

func (s *socket) close() error { return s.c.Close() }

func (s *socket) port() int {
	switch a := s.addr.(type) {
	case *net.TCPAddr:
		return a.Port
	case *net.UDPAddr:
		return a.Port
	}
	return 0
}

func classifyErrno(err error) (State, string, bool) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return "", err.Error(), false
	}
	switch errno {
	case windows.WSAEADDRINUSE:
		return StateInUse, "WSAEADDRINUSE", true
	case windows.WSAEACCES:
		return StateDenied, "WSAEACCES", true
	case windows.WSAEADDRNOTAVAIL:
		return StateUnavailable, "WSAEADDRNOTAVAIL", true
	case windows.WSAEAFNOSUPPORT:
		return StateUnavailable, "WSAEAFNOSUPPORT", true
	}
	return "", errno.Error(), false
}

// drain is not implemented on Windows: the traffic experiments say so.
func (s *socket) drain(bool) (int, error) { return 0, errNotAvailable }
