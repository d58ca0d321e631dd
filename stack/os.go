package stack

import (
	"context"
	"net"
	"syscall"
	"time"
)

// DefaultSocketBuffer is the send and receive buffer size OS asks for on datagram
// sockets, so that bursts at high rates are not dropped by the receiving socket.
const DefaultSocketBuffer = 4 << 20

// OS is the operating system's network stack.
type OS struct {
	// SocketBuffer is the SO_SNDBUF/SO_RCVBUF size for datagram sockets; 0 means
	// DefaultSocketBuffer, a negative value leaves the system default.
	SocketBuffer int
}

// Name implements Network.
func (o *OS) Name() string { return "os" }

func (o *OS) bufSize() int {
	if o == nil || o.SocketBuffer == 0 {
		return DefaultSocketBuffer
	}
	return o.SocketBuffer
}

// Listen implements Network.
func (o *OS) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	return o.listen(ctx, network, address)
}

// ListenPacket implements Network.
func (o *OS) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	return o.listenPacket(ctx, network, address)
}

// Dial implements Network. The socket is created, tuned, then connected; the
// Trace (if any) gets the socket and connect times.
func (o *OS) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	tr := TraceFrom(ctx)
	var created time.Time
	isUDP := network == "udp" || network == "udp4" || network == "udp6"
	d := net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			created = time.Now()
			if isUDP {
				return setBuffers(c, o.bufSize())
			}
			return nil
		},
	}
	start := time.Now()
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	if tr != nil && !created.IsZero() {
		tr.Socket, tr.HasSocket = created.Sub(start), true
		tr.Connect, tr.HasConnect = end.Sub(created), true
	}
	return conn, nil
}
