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
	// NS, if set, is the network namespace every socket is created in (Linux):
	// the socket is made on a thread inside it, checked before the socket exists.
	NS *Namespace
	// Congestion, if set, is the TCP congestion control set on every TCP socket
	// (TCP_CONGESTION; Linux), e.g. "cubic".
	Congestion string
}

// Name implements Network.
func (o *OS) Name() string {
	if o != nil && o.NS != nil {
		return "os (namespace " + o.NS.Name() + ")"
	}
	return "os"
}

// inNS runs f inside the namespace, if any.
func (o *OS) inNS(f func() error) error {
	if o == nil || o.NS == nil {
		return f()
	}
	return o.NS.Do(f)
}

func (o *OS) bufSize() int {
	if o == nil || o.SocketBuffer == 0 {
		return DefaultSocketBuffer
	}
	return o.SocketBuffer
}

// Listen implements Network.
func (o *OS) Listen(ctx context.Context, network, address string) (ln net.Listener, err error) {
	nserr := o.inNS(func() error { ln, err = o.listen(ctx, network, address); return nil })
	if nserr != nil {
		return nil, nserr
	}
	return ln, err
}

// ListenPacket implements Network.
func (o *OS) ListenPacket(ctx context.Context, network, address string) (pc net.PacketConn, err error) {
	nserr := o.inNS(func() error { pc, err = o.listenPacket(ctx, network, address); return nil })
	if nserr != nil {
		return nil, nserr
	}
	return pc, err
}

// Dial implements Network. The socket is created, tuned, then connected; the
// Trace (if any) gets the socket and connect times.
func (o *OS) Dial(ctx context.Context, network, address string) (conn net.Conn, err error) {
	nserr := o.inNS(func() error { conn, err = o.dial(ctx, network, address); return nil })
	if nserr != nil {
		return nil, nserr
	}
	return conn, err
}

func (o *OS) dial(ctx context.Context, network, address string) (net.Conn, error) {
	tr := TraceFrom(ctx)
	var created time.Time
	isUDP := network == "udp" || network == "udp4" || network == "udp6"
	d := net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			created = time.Now()
			if isUDP {
				if noUDPChecksum(ctx) {
					if err := setNoUDPChecksum(c); err != nil {
						return err
					}
				}
				return setBuffers(c, o.bufSize())
			}
			return setCongestion(c, o.congestion())
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

func (o *OS) congestion() string {
	if o == nil {
		return ""
	}
	return o.Congestion
}
