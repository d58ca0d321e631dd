package stack

import (
	"net"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// udpConn is a gVisor UDP socket whose reads, once it is closed, fail with
// net.ErrClosed as the OS's do (gonet's return io.EOF), so that code reading
// a socket sees the same end on every Network.
type udpConn struct {
	*gonet.UDPConn
	closed atomic.Bool
}

func newUDPConn(c *gonet.UDPConn) *udpConn { return &udpConn{UDPConn: c} }

// Close implements net.Conn.
func (c *udpConn) Close() error {
	c.closed.Store(true)
	return c.UDPConn.Close()
}

// Read implements net.Conn.
func (c *udpConn) Read(b []byte) (int, error) {
	n, err := c.UDPConn.Read(b)
	return n, c.readErr(err)
}

// ReadFrom implements net.PacketConn.
func (c *udpConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.UDPConn.ReadFrom(b)
	return n, a, c.readErr(err)
}

func (c *udpConn) readErr(err error) error {
	if err != nil && c.closed.Load() {
		return &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: net.ErrClosed}
	}
	return err
}
