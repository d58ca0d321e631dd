// Package tcp holds the TCP halves of netduel's tests: the throughput sender and
// receiver, the request/response (latency) client and the echo server, and the
// kernel's view of a connection (TCP_INFO on Linux). TCP carries frames on a byte
// stream; frame.Reader reassembles them.
//
// The package shares its accounting with package udp through package stats and
// its wire format through package frame; the two transports never import each
// other.
package tcp

import (
	"context"
	"net"
	"time"
)

// unblockOnCancel makes blocked reads and writes on conn return when ctx is done.
// Call the returned func to stop watching.
func unblockOnCancel(ctx context.Context, conn net.Conn) func() bool {
	return context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
}

// CloseWrite half-closes conn: it sends a FIN so the peer reads the end of the
// stream, while conn can still read. Connections without half-close are left alone.
func CloseWrite(conn net.Conn) error {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
