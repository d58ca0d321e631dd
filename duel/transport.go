package duel

import (
	"context"
	"net"
	"time"

	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/tcp"
	"github.com/netduel/netduel/udp"
)

// transport is the connection-level half that test kinds share: how the
// client opens, attaches and ends its data socket, which lifecycle steps it
// has, and how the server holds a session's data and ends it. A kind adds
// what is its own (what to send, how to serve it, how its result merges).
type transport interface {
	// network names the socket type for stack.Network.Dial: "tcp" or "udp".
	network() string
	// dialContext decorates the data socket's dial (UDP without checksums).
	dialContext(ctx context.Context, c *Client) context.Context
	// attach joins a freshly opened data socket to the session.
	attach(conn net.Conn, cookie uint64) error
	// end ends the client's data phase once the kind has sent everything.
	end(ctx context.Context, conn net.Conn, cookie uint64, d *dataOutcome)
	// lifecycle fills the lifecycle steps both ends saw.
	lifecycle(life *Lifecycle, w welcome, d dataOutcome, v ServerView, sameHost bool)
	// open prepares a new session's data path on the server.
	open(sess *session)
	// finish waits for the session's data to end and returns the server's view.
	finish(sess *session, f fin) ServerView
}

// stream is TCP: a connection attached by its first frame, half-closed at
// the end, with the kernel's TCP_INFO.
type stream struct{}

// datagrams is UDP: datagrams carrying the session's cookie, counted by the
// server's flow, with no close the server could see.
type datagrams struct{}

var (
	_ transport = stream{}
	_ transport = datagrams{}
)

func (stream) network() string    { return "tcp" }
func (datagrams) network() string { return "udp" }

func (stream) dialContext(ctx context.Context, _ *Client) context.Context { return ctx }

func (datagrams) dialContext(ctx context.Context, c *Client) context.Context {
	if c.NoUDPChecksum {
		return stack.WithoutUDPChecksum(ctx)
	}
	return ctx
}

// attach sends the first frame, which names the session.
func (stream) attach(conn net.Conn, cookie uint64) error {
	return writeControl(conn, cookie, struct{}{})
}

// attach does nothing: every datagram carries the cookie.
func (datagrams) attach(net.Conn, uint64) error { return nil }

// end sends a FIN, then waits for the server to read everything and close
// its side, so that TCP_INFO is final and the server has seen the end of the
// stream. The FIN is sent once nothing is left unsent, so that the time the
// server sees it is the FIN's trip, not the send buffer draining (a kind
// whose last reply came back, d.idle, has nothing in flight).
func (stream) end(ctx context.Context, conn net.Conn, _ uint64, d *dataOutcome) {
	d.finTimed = d.err == nil && (d.idle || tcp.WaitSent(ctx, conn, 30*time.Second))
	d.finAt = time.Now()
	if d.err == nil {
		d.err = tcp.CloseWrite(conn)
	}
	if d.err == nil {
		d.err = waitPeerClose(conn, 30*time.Second)
	}
	d.info, d.hasInfo = tcp.ReadInfo(conn)
}

// end sends the end datagrams (udp.SendEnd), so that the server's settle
// knows when the frames before them have all been read (best effort: a lost
// end leaves the settle to its quiet period).
func (datagrams) end(_ context.Context, conn net.Conn, cookie uint64, d *dataOutcome) {
	d.datagrams = d.sentFrames
	if d.err == nil {
		d.endSent = udp.SendEnd(conn, cookie, d.sentFrames) == nil
	}
	if d.endSent {
		d.datagrams += udp.EndCopies
	}
}

func (stream) lifecycle(life *Lifecycle, w welcome, d dataOutcome, v ServerView, sameHost bool) {
	life.BindUS, life.ListenUS = ptr(w.Setup.TCPBindUS), ptr(w.Setup.TCPListenUS)
	life.PeerSawClose = v.PeerClosed
	if sameHost && v.AcceptUnixNs > 0 {
		life.AcceptUS = ptr(max(0, us(time.Duration(v.AcceptUnixNs-d.connectAt.UnixNano()))))
	}
	if sameHost && v.PeerClosed && v.ClosedUnixNs > 0 && !d.finAt.IsZero() && d.finTimed {
		life.PeerSawCloseUS = ptr(max(0, us(time.Duration(v.ClosedUnixNs-d.finAt.UnixNano()))))
	}
}

func (datagrams) lifecycle(life *Lifecycle, w welcome, _ dataOutcome, _ ServerView, _ bool) {
	life.BindUS = ptr(w.Setup.UDPBindUS)
}

// open does nothing: the data connection attaches itself (Server.serveData).
func (stream) open(*session) {}

// open makes the session's flow, which the server's UDP socket feeds.
func (datagrams) open(sess *session) {
	sess.flow = udp.NewFlow(sess.kind.half.udpMode)
	sess.flow.SetInterval(sess.spec.Interval, sess.spec.Duration)
	sess.meter = newMeter(sess.srv.cfg.MaxBitrate, rateBurst)
	sess.flow.SetGate(sess.udpGate)
}

// finish waits for the handler to read the client's FIN (the client
// half-closed its data connection before the fin), or gives up after the
// idle timeout.
func (stream) finish(sess *session, f fin) ServerView {
	sess.mu.Lock()
	attached := sess.attached
	sess.mu.Unlock()
	if !attached {
		return ServerView{Error: "no data connection was attached"}
	}
	select {
	case <-sess.dataDone:
	case <-time.After(sess.srv.cfg.IdleTimeout):
		sess.closeData()
		<-sess.dataDone
	}
	sess.mu.Lock()
	v, recv := sess.view, sess.recv
	sess.mu.Unlock()
	if recv != nil {
		// Lost frames are counted against what the client says it sent.
		v.fill(recv.Report(f.SentFrames))
	}
	return v
}

// finish waits for the frames still in flight, then reports the flow. The
// server is never told the client closed.
func (datagrams) finish(sess *session, f fin) ServerView {
	sess.settle(f)
	rep := sess.flow.Report(f.SentFrames)
	var v ServerView
	v.fill(rep.Recv)
	v.Requests, v.Echoed = rep.Requests, rep.Echoed
	if sess.kind.Has(FigRoundTrips) {
		v.Wait = sess.srv.usrv.Wait()
	}
	if !rep.First.IsZero() {
		v.FirstUnixNs = rep.First.UnixNano()
	}
	return v
}
