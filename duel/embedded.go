package duel

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/netduel/netduel/impair/link"
)

// The embedded server's control channel stays off the emulated link (DESIGN
// §4): the server runs in this process, so each test's control connection is
// an in-process pipe, while its data connection and datagrams cross the link.
// The link impairs only what is measured, and a link that drops everything is
// a measurement (100% lost) rather than a handshake that never ends.

// ServeControl serves one control connection handed over in-process (rather
// than accepted on the server's listener) until its session ends or the
// server closes. conn's RemoteAddr is the client's address as the server's
// data sockets will see it: TCP data connections and UDP datagrams must come
// from that IP, as they must from a control connection's peer.
func (s *Server) ServeControl(conn net.Conn) {
	if !s.track(conn, addrOf(conn.RemoteAddr())) {
		conn.Close()
		return
	}
	defer s.untrack(conn)
	s.handleConn(conn, time.Now())
}

// pipeEnd is one end of an in-process control connection, addressed as the
// ends of the link it stands in for.
type pipeEnd struct {
	net.Conn
	local, remote net.Addr
}

func (p pipeEnd) LocalAddr() net.Addr  { return p.local }
func (p pipeEnd) RemoteAddr() net.Addr { return p.remote }

// inProcessControl returns a Client.control that opens each test's control
// connection as an in-process pipe to srv, which sees it coming from client.
// Data goes to the server's address on the link. wg counts the server's
// goroutines, for the caller to wait on after closing srv.
func inProcessControl(srv *Server, client netip.Addr, wg *sync.WaitGroup) func(context.Context) (net.Conn, netip.AddrPort, error) {
	server := srv.Addr()
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	clientAddr := net.TCPAddrFromAddrPort(netip.AddrPortFrom(client, 0))
	serverAddr := net.TCPAddrFromAddrPort(server)
	return func(ctx context.Context) (net.Conn, netip.AddrPort, error) {
		if err := ctx.Err(); err != nil {
			return nil, netip.AddrPort{}, err
		}
		if srv.isClosed() {
			return nil, netip.AddrPort{}, errors.New("the embedded server has stopped")
		}
		c, s := net.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.ServeControl(pipeEnd{Conn: s, local: serverAddr, remote: clientAddr})
		}()
		return pipeEnd{Conn: c, local: clientAddr, remote: serverAddr}, server, nil
	}
}

// clientHost is the client's address on a link: what the server sees its
// data come from.
func clientHost(l *link.Link) netip.Addr {
	if l.Backend == link.None {
		if a, err := netip.ParseAddr(l.ServerHost); err == nil {
			return a // the OS loopback: both ends on one address
		}
	}
	return link.ClientAddr
}
