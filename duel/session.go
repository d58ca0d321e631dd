package duel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/udp"
)

// maxSettle caps how long the server waits for UDP frames in flight after a fin.
const maxSettle = 5 * time.Second

// endQuiet is how long the server waits for reordered stragglers once the
// client's end datagram has arrived; endWait, at least how long it waits for
// an end datagram the client sent (a reader held up by a loaded machine
// still has frames queued; a lost end costs this much).
const (
	endQuiet = 20 * time.Millisecond
	endWait  = time.Second
)

// session is one client's test on the server.
type session struct {
	srv    *Server
	cookie uint64
	peer   netip.Addr
	spec   TestSpec
	kind   *Kind
	ctx    context.Context         // the whole session
	end    context.CancelCauseFunc // ends the session (the idle watchdog)
	// dataCtx bounds the data path; cancelled when the session is cut off
	// (over the bit rate limit) while its control connection waits for the fin.
	dataCtx    context.Context
	cancelData context.CancelFunc

	flow  *udp.Flow // UDP tests
	meter *meter    // UDP tests with a bit rate limit (used under the flow's lock)

	lastActive atomic.Int64 // Unix ns of the last sign of life (data or control)
	cut        atomic.Bool  // cut off: its datagrams are dropped
	idle       *time.Timer  // the idle watchdog, guarded by mu

	mu       sync.Mutex
	idleOff  bool           // the watchdog is stopped
	cutMsg   string         // why the session was cut off
	udpSrc   netip.AddrPort // the source address its datagrams proved they own
	attached bool           // a TCP data connection has been attached
	dataDone chan struct{}  // closed when the TCP data connection's handler ends
	dataConn net.Conn
	view     ServerView      // TCP data connection's results, written by its handler
	recv     *stats.Receiver // TCP throughput accounting, read once the handler ends
}

// control runs a control connection from its hello to its result.
func (s *Server) control(conn net.Conn, rd *frame.Reader, body []byte, peer netip.Addr) {
	refuse := func(err error) {
		s.noisef("%s: refused: %v", conn.RemoteAddr(), err)
		m := errorMsg{Type: msgError, Error: err.Error()}
		var over *overRateError
		if errors.As(err, &over) {
			m.MaxBitrateBps = over.limit // a client's rate search keeps under it
		}
		_ = writeControl(conn, 0, m)
	}
	hl, err := parseHello(body)
	if err != nil {
		refuse(err)
		return
	}
	var nonce []byte
	if s.cfg.Token != "" {
		if nonce, err = s.authenticate(conn, rd, body, hl); err != nil {
			refuse(err)
			return
		}
	}
	if err := s.admit(hl.Test); err != nil {
		refuse(err)
		return
	}
	sess := s.newSession(hl.Test, peer)
	defer sess.end(nil)
	if err := s.addSession(sess); err != nil {
		refuse(err)
		return
	}
	defer s.removeSession(sess)
	defer sess.closeData()
	if hl.Test.BusyPoll && hl.Test.Proto == ProtoUDP {
		s.usrv.Busy(true) // the shared datagram loop spins while this session lasts
		defer s.usrv.Busy(false)
	}
	if hl.Test.Test == TestLatency && hl.Test.Proto == ProtoUDP {
		s.usrv.Latency(true) // its blocking reads may hold a P while this session lasts
		defer s.usrv.Latency(false)
	}
	if hl.Test.Test == TestThroughput && hl.Test.Proto == ProtoUDP {
		s.usrv.Throughput(true) // GRO on for its datagrams, before the welcome lets them come
		defer s.usrv.Throughput(false)
	}
	s.cfg.Logf("%s: session %016x: %s for %v", conn.RemoteAddr(), sess.cookie, hl.Test, hl.Test.Duration)

	w := welcome{Type: msgWelcome, Cookie: sess.cookie, Port: s.port, MaxFrame: s.cfg.MaxFrame, Setup: s.setup, IdleNs: int64(s.cfg.IdleTimeout)}
	if nonce != nil {
		w.ServerProof = authProof(s.cfg.Token, labelServer, nonce, hl.ClientNonce, body, sess.cookie)
	}
	if err := writeControl(conn, sess.cookie, w); err != nil {
		return
	}
	s.donePending(conn)
	sess.touch(time.Now())
	sess.startIdle(s.cfg.IdleTimeout)
	defer sess.stopIdle()
	conn.SetReadDeadline(time.Time{}) // the idle watchdog and the session's lifetime bound it now
	stop := context.AfterFunc(sess.ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	f, err := sess.waitFin(rd)
	if err != nil {
		s.cfg.Logf("%s: session %016x ended without a fin: %v", conn.RemoteAddr(), sess.cookie, err)
		var bad badMessage
		why := err.Error()
		if sess.ctx.Err() != nil {
			why = context.Cause(sess.ctx).Error()
		}
		if sess.ctx.Err() != nil || errors.As(err, &bad) {
			// Tell a client that is still there why (best effort).
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			_ = writeControl(conn, sess.cookie, errorMsg{Type: msgError, Error: why})
		}
		return
	}
	sess.stopIdle()
	view := sess.finish(f)
	if msg := sess.cutReason(); msg != "" {
		view.Error = msg
	}
	// Free the slot before answering: a client that starts its next test as
	// soon as it has this result must find it free (with --max-clients N, N
	// clients running plans back to back were refused "server busy").
	s.removeSession(sess)
	conn.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
	_ = writeControl(conn, sess.cookie, result{Type: msgResult, View: view})
}

// parseHello decodes and checks a hello's body.
func parseHello(body []byte) (hello, error) {
	var hl hello
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &probe); err != nil || probe.Type != msgHello {
		return hl, errors.New("the first control message must be a hello")
	}
	if err := json.Unmarshal(body, &hl); err != nil {
		// Which field is wrong, and how (the decoder's words, which name
		// the field; cleaned, as they may quote the client's bytes).
		return hl, fmt.Errorf("bad hello message: %s", cleanServerText(err.Error()))
	}
	if hl.Version != ProtocolVersion {
		return hl, fmt.Errorf("protocol version %d is not supported (this server speaks %d)", hl.Version, ProtocolVersion)
	}
	return hl, nil
}

// lifetime is how long a session of a test of duration d may last: d plus
// idle time on both sides and the settling, saturating rather than wrapping
// round to a negative timeout (which ended every session at once) for an
// idle timeout near the largest duration.
func lifetime(d, idle time.Duration) time.Duration {
	total := d
	for _, add := range []time.Duration{idle, idle, maxSettle} {
		if total > math.MaxInt64-add {
			return math.MaxInt64
		}
		total += add
	}
	return total
}

// newSession makes a session for an admitted test from peer.
func (s *Server) newSession(t TestSpec, peer netip.Addr) *session {
	sess := &session{srv: s, peer: peer, spec: t, kind: t.Kind(), dataDone: make(chan struct{})}
	// A session lives at most its test's duration plus idle time on both sides.
	base, end := context.WithCancelCause(s.ctx)
	ctx, cancel := context.WithTimeoutCause(base, lifetime(t.Duration, s.cfg.IdleTimeout),
		fmt.Errorf("session ended: it outlasted its duration %v plus the server's timeouts", t.Duration))
	sess.ctx = ctx
	sess.end = func(cause error) { end(cause); cancel() }
	sess.dataCtx, sess.cancelData = context.WithCancel(ctx)
	sess.kind.half.transport.open(sess)
	return sess
}

// badMessage is a client's control message the server cannot take: it says
// so (an error message) before it closes the connection.
type badMessage struct{ error }

func (e badMessage) Unwrap() error { return e.error }

// waitFin reads control messages until the fin: alive messages (and any
// message) count as signs of life.
func (sess *session) waitFin(rd *frame.Reader) (fin, error) {
	for {
		_, typ, body, err := nextControl(rd)
		if err != nil {
			if sess.ctx.Err() != nil {
				return fin{}, context.Cause(sess.ctx)
			}
			if answeredWrongly(err) { // not a frame, or not a control message
				return fin{}, badMessage{err}
			}
			return fin{}, fromClient(err)
		}
		sess.touch(time.Now())
		switch typ {
		case msgAlive:
		case msgFin:
			var f fin
			if err := json.Unmarshal(body, &f); err != nil {
				return f, badMessage{fmt.Errorf("bad fin message: %w", err)}
			}
			return f, nil
		default:
			return fin{}, badMessage{fmt.Errorf("unexpected %q message during the test", typ)}
		}
	}
}

// admit checks a test against the server's limits.
func (s *Server) admit(t TestSpec) error {
	if err := t.check(s.cfg.MaxFrame); err != nil {
		return err
	}
	if t.Duration > s.cfg.MaxDuration {
		return fmt.Errorf("duration %v is over this server's limit of %v", t.Duration, s.cfg.MaxDuration)
	}
	if t.Bitrate < 0 {
		return fmt.Errorf("bitrate %v: a bit rate search is run by the client as paced trials", t.Bitrate)
	}
	if t.BusyPoll && !s.cfg.AllowBusyPoll {
		return errors.New("busy polling is not allowed on this server (its operator can allow it: serve --allow-busy-poll)")
	}
	if s.cfg.MaxBitrate > 0 && t.Kind().Has(FigPacing) &&
		(t.Bitrate == 0 || t.Bitrate > s.cfg.MaxBitrate) {
		return &overRateError{limit: s.cfg.MaxBitrate, msg: fmt.Sprintf("UDP bit rate %s is over this server's --max-bitrate of %.0f bit/s: pace it at that or less (--bitrate)", rateText(t.Bitrate), s.cfg.MaxBitrate)}
	}
	return nil
}

// overRateError refuses a test over the server's --max-bitrate; its refusal
// states the limit (errorMsg.MaxBitrateBps), so that a client's bit rate
// search can keep under it.
type overRateError struct {
	limit float64
	msg   string
}

func (e *overRateError) Error() string { return e.msg }

func rateText(r float64) string {
	if r == 0 {
		return "0 (unpaced)"
	}
	return fmt.Sprintf("%.0f bit/s", r)
}

// touch records a sign of life.
func (sess *session) touch(now time.Time) { sess.lastActive.Store(now.UnixNano()) }

// startIdle starts the watchdog that ends the session once neither its data nor
// its control connection has shown life for idle: a silent session frees its
// slot within the idle timeout, whatever duration its hello asked for.
func (sess *session) startIdle(idle time.Duration) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.idle = time.AfterFunc(idle, func() {
		left := time.Until(time.Unix(0, sess.lastActive.Load()).Add(idle))
		sess.mu.Lock()
		defer sess.mu.Unlock()
		if sess.idleOff {
			return
		}
		if left > 0 {
			sess.idle.Reset(left)
			return
		}
		sess.end(fmt.Errorf("session ended: no data and no control message for %v (the server's idle timeout)", idle))
	})
}

func (sess *session) stopIdle() {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.idleOff = true
	if sess.idle != nil {
		sess.idle.Stop()
	}
}

// udpGate passes each of the session's datagrams (called under the flow's
// lock): it records the sign of life and enforces the bit rate limit.
func (sess *session) udpGate(n int, now time.Time) bool {
	if sess.cut.Load() {
		return false
	}
	sess.touch(now)
	if sess.meter != nil && sess.meter.take(n, now) < 0 {
		sess.cutOff(sess.meter.overError(now))
		return false
	}
	return true
}

// cutOff stops the session's data path (its datagrams are dropped from now on)
// and records why, for its result. The control connection stays open for the
// client's fin.
func (sess *session) cutOff(msg string) {
	sess.mu.Lock()
	first := sess.cutMsg == ""
	if first {
		sess.cutMsg = msg
	}
	sess.mu.Unlock()
	if first {
		sess.cut.Store(true)
		sess.cancelData()
		sess.srv.cfg.Logf("session %016x: %s", sess.cookie, msg)
	}
}

func (sess *session) cutReason() string {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.cutMsg
}

// bindUDP reports whether src may send the session's datagrams: the first
// source to send one owns the session's UDP flow from then on.
func (sess *session) bindUDP(src netip.AddrPort) bool {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if !sess.udpSrc.IsValid() {
		sess.udpSrc = src
	}
	return sess.udpSrc == src
}

// serveData runs an attached TCP data connection until the client's FIN.
func (sess *session) serveData(conn net.Conn, rd *frame.Reader, accepted time.Time) {
	sess.mu.Lock()
	if sess.attached || sess.kind.half.serve == nil {
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
	err := sess.kind.half.serve(sess, conn, rd, accepted, &view)
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
	v.RecvReport = r
	if !r.Last.IsZero() {
		v.LastNs = r.Last.UnixNano()
	}
}

// settle waits for a UDP test's frames still in flight after the client's
// fin: until every frame the client sent has arrived, or no frame has arrived
// for the settle time, and at most maxSettle. The fin comes over the control
// connection, which may be faster than the data's path (the embedded run's
// control channel is off the emulated link), so the wait counts from the last
// arrival rather than from the fin. Once the client's end datagrams have
// been read (udp.SendEnd: sent after its last frame, and in an embedded run
// after the link drained), every frame before them has been too: the wait
// then only covers a path's reordering, endQuiet.
func (sess *session) settle(f fin) {
	quiet := min(max(time.Duration(f.SettleNs), 0), maxSettle)
	if f.EndSent {
		quiet = max(quiet, endWait)
	}
	begin := time.Now()
	limit := begin.Add(maxSettle)
	for {
		n, last := sess.flow.Progress()
		if n >= f.SentFrames && f.SentFrames > 0 {
			return
		}
		now := time.Now()
		from := begin
		if last.After(from) {
			from = last
		}
		until := from.Add(quiet)
		if end := last.Add(endQuiet); sess.flow.Ended() && end.Before(until) {
			until = end
		}
		if until.After(limit) {
			until = limit
		}
		if !until.After(now) {
			return
		}
		// Check again at least every 10 ms, so a flow that completes
		// ends the wait promptly.
		wait := min(until.Sub(now), 10*time.Millisecond)
		select {
		case <-time.After(wait):
		case <-sess.ctx.Done():
			return
		}
	}
}

// finish waits for the data to end and returns the server's view of the test.
func (sess *session) finish(f fin) ServerView { return sess.kind.half.transport.finish(sess, f) }

func (sess *session) closeData() {
	sess.mu.Lock()
	c := sess.dataConn
	sess.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
