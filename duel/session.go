package duel

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
	"github.com/netduel/netduel/udp"
)

// maxSettle caps how long the server waits for UDP frames in flight after a fin.
const maxSettle = 5 * time.Second

// session is one client's test on the server.
type session struct {
	srv    *Server
	cookie uint64
	peer   netip.Addr
	spec   TestSpec
	ctx    context.Context
	cancel context.CancelFunc

	flow *udp.Flow // UDP tests

	mu       sync.Mutex
	attached bool          // a TCP data connection has been attached
	dataDone chan struct{} // closed when the TCP data connection's handler ends
	dataConn net.Conn
	view     ServerView      // TCP data connection's results, written by its handler
	recv     *stats.Receiver // TCP throughput accounting, read once the handler ends
}

// control runs a control connection from its hello to its result.
func (s *Server) control(conn net.Conn, rd *frame.Reader, body []byte, peer netip.Addr) {
	refuse := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		s.cfg.Logf("%s: refused: %s", conn.RemoteAddr(), msg)
		_ = writeControl(conn, 0, errorMsg{Type: msgError, Error: msg})
	}
	var hl hello
	if err := json.Unmarshal(body, &hl); err != nil || hl.Type != msgHello {
		refuse("the first control message must be a hello")
		return
	}
	if hl.Version != ProtocolVersion {
		refuse("protocol version %d is not supported (this server speaks %d)", hl.Version, ProtocolVersion)
		return
	}
	if err := s.admit(hl.Test); err != nil {
		refuse("%v", err)
		return
	}
	sess := &session{srv: s, peer: peer, spec: hl.Test, dataDone: make(chan struct{})}
	// A session lives at most its test's duration plus idle time on both sides.
	sess.ctx, sess.cancel = context.WithTimeout(s.ctx, hl.Test.Duration+2*s.cfg.IdleTimeout+maxSettle)
	defer sess.cancel()
	if hl.Test.Proto == ProtoUDP {
		mode := udp.ModeReceive
		if hl.Test.Test == TestLatency {
			mode = udp.ModeEcho
		}
		sess.flow = udp.NewFlow(mode)
		sess.flow.SetInterval(hl.Test.Interval, hl.Test.Duration)
	}
	if err := s.addSession(sess); err != nil {
		refuse("%v", err)
		return
	}
	defer s.removeSession(sess)
	defer sess.closeData()
	s.cfg.Logf("%s: session %016x: %s for %v", conn.RemoteAddr(), sess.cookie, hl.Test, hl.Test.Duration)

	w := welcome{Type: msgWelcome, Cookie: sess.cookie, Port: s.port, MaxFrame: s.cfg.MaxFrame, Setup: s.setup}
	if err := writeControl(conn, sess.cookie, w); err != nil {
		return
	}
	conn.SetReadDeadline(time.Now().Add(hl.Test.Duration + s.cfg.IdleTimeout))
	stop := context.AfterFunc(sess.ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var f fin
	if _, err := readControl(rd, msgFin, &f); err != nil {
		s.cfg.Logf("%s: session %016x ended without a fin: %v", conn.RemoteAddr(), sess.cookie, err)
		return
	}
	view := sess.finish(f)
	conn.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
	_ = writeControl(conn, sess.cookie, result{Type: msgResult, View: view})
}

// admit checks a test against the server's limits.
func (s *Server) admit(t TestSpec) error {
	if err := t.check(s.cfg.MaxFrame); err != nil {
		return err
	}
	if t.Duration > s.cfg.MaxDuration {
		return fmt.Errorf("duration %v is over this server's limit of %v", t.Duration, s.cfg.MaxDuration)
	}
	if s.cfg.MaxBitrate > 0 && t.Proto == ProtoUDP && t.Test == TestThroughput &&
		(t.Bitrate == 0 || t.Bitrate > s.cfg.MaxBitrate) {
		return fmt.Errorf("bit rate %s is over this server's limit of %.0f bit/s", rateText(t.Bitrate), s.cfg.MaxBitrate)
	}
	return nil
}

func rateText(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f bit/s", r)
}

// serveData runs an attached TCP data connection until the client's FIN.
func (sess *session) serveData(conn net.Conn, rd *frame.Reader, accepted time.Time) {
	sess.mu.Lock()
	if sess.attached || sess.spec.Proto != ProtoTCP {
		sess.mu.Unlock()
		sess.srv.cfg.Logf("%s: unexpected data connection for session %016x: closed", conn.RemoteAddr(), sess.cookie)
		return
	}
	sess.attached = true
	sess.dataConn = conn
	sess.mu.Unlock()
	defer close(sess.dataDone)

	conn.SetReadDeadline(time.Time{}) // the session's context bounds it instead
	view := ServerView{AcceptUnixNs: accepted.UnixNano()}
	var err error
	switch sess.spec.Test {
	case TestThroughput:
		recv := stats.NewReceiver()
		recv.SetIntervalFrom(sess.spec.Interval, sess.spec.Duration, accepted)
		err = tcp.Receive(sess.ctx, conn, rd, sess.cookie, recv)
		if first := recv.First(); !first.IsZero() {
			view.FirstUnixNs = first.UnixNano()
		}
		sess.mu.Lock()
		sess.recv = recv
		sess.mu.Unlock()
	case TestLatency:
		var c tcp.EchoCounts
		c, err = tcp.Echo(sess.ctx, conn, rd, sess.cookie)
		view.Requests, view.Echoed = c.Requests, c.Echoed
		if !c.First.IsZero() {
			view.FirstUnixNs = c.First.UnixNano()
		}
	}
	if err == nil {
		view.PeerClosed, view.ClosedUnixNs = true, time.Now().UnixNano()
	} else {
		view.Error = err.Error()
	}
	sess.mu.Lock()
	sess.view = view
	sess.mu.Unlock()
}

// fill copies a receiver report into the view.
func (v *ServerView) fill(r stats.RecvReport) {
	v.Received, v.Unique, v.Lost = r.Received, r.Unique, r.Lost
	v.Reordered, v.Duplicate, v.Corrupt, v.Late = r.Reordered, r.Duplicate, r.Corrupt, r.Late
	v.BodyBytes, v.WireBytes, v.SpanNs = r.BodyBytes, r.WireBytes, int64(r.Span)
	if !r.Last.IsZero() {
		v.LastNs = r.Last.UnixNano()
	}
	v.Jitter = r.Jitter
	v.Intervals = r.Intervals
}

// finish waits for the data to end and returns the server's view of the test.
func (sess *session) finish(f fin) ServerView {
	if sess.spec.Proto == ProtoUDP {
		settle := min(max(time.Duration(f.SettleNs), 0), maxSettle)
		select {
		case <-time.After(settle):
		case <-sess.ctx.Done():
		}
		rep := sess.flow.Report(f.SentFrames)
		var v ServerView
		v.fill(rep.Recv)
		v.Requests, v.Echoed = rep.Requests, rep.Echoed
		if !rep.First.IsZero() {
			v.FirstUnixNs = rep.First.UnixNano()
		}
		return v // UDP: the server is never told the client closed
	}
	// TCP: the client half-closed its data connection before the fin; wait for
	// the handler to read that FIN, or give up after the idle timeout.
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

func (sess *session) closeData() {
	sess.mu.Lock()
	c := sess.dataConn
	sess.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
