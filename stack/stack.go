// Package stack owns the Network abstraction: where sockets come from. Everything
// else in netduel opens its listeners, packet sockets and connections through a
// Network, never through net.Listen or net.Dial directly, so that the same test code
// runs over the operating system's stack (OS), inside a network namespace, or over a
// user-space stack such as gVisor's netstack.
//
// A Network may record how long each step of a socket's life took (socket, bind,
// listen, connect) into a Trace carried by the context: see WithTrace.
package stack

import (
	"context"
	"net"
	"time"
)

// Network opens sockets. Implementations are safe for concurrent use. The
// sockets behave alike on every implementation (internal/suite runs one set of
// transport tests over each): a listener on port 0 gets a real port, a read on
// a closed datagram socket fails with an error wrapping net.ErrClosed.
type Network interface {
	// Listen opens a stream listener ("tcp", "tcp4", "tcp6") on address.
	Listen(ctx context.Context, network, address string) (net.Listener, error)
	// ListenPacket opens a datagram socket ("udp", "udp4", "udp6") bound to address.
	ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error)
	// Dial connects to address. For "udp" it only sets the default peer: no
	// packet is sent.
	Dial(ctx context.Context, network, address string) (net.Conn, error)
	// Name names the stack for reports, for example "os".
	Name() string
}

// Trace receives the duration of each step of a socket's set-up. Steps a Network
// cannot separate are left zero, and the Has* flags say which were measured.
type Trace struct {
	Socket  time.Duration // socket(2): creating the descriptor
	Bind    time.Duration // bind(2); for a dialled socket the kernel binds implicitly
	Listen  time.Duration // listen(2), stream sockets only
	Connect time.Duration // connect(2): a TCP handshake, or only setting a UDP peer

	HasSocket, HasBind, HasListen, HasConnect bool
}

type traceKey struct{}

// WithTrace returns a context that makes a Network fill t while it sets a socket up.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the Trace carried by ctx, or nil.
func TraceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}
