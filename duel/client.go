package duel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
)

// Client runs tests against a server.
type Client struct {
	Network stack.Network // default &stack.OS{}
	Server  string        // host:port of the server's control port
	// Settle is how long the server waits for UDP frames still in flight after
	// the client's fin; 0 means 250 ms.
	Settle time.Duration
	// SameHost says the server shares this host's clock, so that times across
	// the two ends (accept, the peer seeing a close) can be reported.
	SameHost bool
	// Progress, if set, is told when each test starts.
	Progress func(spec TestSpec)
	// OnResult, if set, is given each test's result as soon as it is known.
	OnResult func(r Result)
	// NoUDPChecksum sends the client's UDP datagrams without a UDP checksum
	// (stack.WithoutUDPChecksum), so that corruption on the way reaches the
	// server and its frame CRC32C, instead of the server kernel's checksum.
	NoUDPChecksum bool
	// Token, if set, is the shared secret of a server started with --token: the
	// client proves it knows it (and checks the server does) without sending it.
	Token string
	// Live, if set, counts progress while a test runs, for a live display: frame
	// bytes sent (throughput) or round trips completed (latency). Reset it when
	// Progress is called.
	Live *atomic.Uint64

	onStart func() // before each test (RunOnLink: link counters)
	// drain, if set, waits before the fin until the data path holds no more
	// of the test's packets (RunOnLink: the link's queue toward the server
	// is empty), so that the server's settle only covers its own socket.
	// datagrams is how many the test wrote (0 for a stream): the link has
	// taken them all once its counters show as many.
	drain    func(ctx context.Context, datagrams uint64)
	decorate func(*Result) // after each test (RunOnLink: link info)
	// control, if set, opens the control connection instead of dialing Server,
	// and names the server's data address (RunOnLink: in-process, off the link).
	control func(ctx context.Context) (net.Conn, netip.AddrPort, error)
	// inProcess: the server runs in this process (RunOnLink), so latency
	// tests wait through the netpoller (see stack.Receiver).
	inProcess bool
}

// UnreachableError says the server could not be reached or talked to at all.
type UnreachableError struct {
	Addr string
	Err  error
	// Answered: something answered there, but not as a netduel server does
	// (no frame, or not the message due): another program on that port.
	Answered bool
	// Silent: something accepted the control connection, then sent nothing
	// for this long (a netduel server answers a hello at once, even to
	// refuse it): another program, or a stuck server.
	Silent time.Duration
}

func (e *UnreachableError) Error() string {
	if e.Silent > 0 {
		return fmt.Sprintf("server %s accepted the connection but sent no welcome in %v (a netduel server answers at once, even to refuse: is another program listening there, or is the server stuck?)",
			e.Addr, e.Silent.Round(time.Millisecond))
	}
	if e.Answered {
		return fmt.Sprintf("server %s answered, but not as 'netduel serve' does: %v", e.Addr, e.Err)
	}
	return fmt.Sprintf("server %s unreachable: %v", e.Addr, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Run runs the plan's tests one after another. A test that fails midway is
// recorded in its Result's Error and the run goes on; a server that cannot be
// reached, or that refuses a test, ends the run with an error, after a Result
// for that test holding it. Results hold every test that finished.
func (c *Client) Run(ctx context.Context, plan []TestSpec) ([]Result, error) {
	var out []Result
	for _, spec := range plan {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if c.Progress != nil {
			c.Progress(spec)
		}
		if c.onStart != nil {
			c.onStart()
		}
		var r Result
		var err error
		searching := false
		if k := spec.Kind(); spec.Search != nil && k != nil && k.Has(FigPacing) {
			searching = true
			r, err = c.FindMaxRate(ctx, spec, spec.Search.MaxLossPct)
		} else {
			spec.Search = nil
			r, err = c.RunTest(ctx, spec)
		}
		if err != nil {
			// The test that could not start is a result too, with its error.
			if ctx.Err() != nil {
				err = startInterrupted{ctx.Err(), searching}
			}
			r = Result{Proto: spec.Proto, Test: spec.Test, Size: spec.Size, Error: err.Error(), Extent: NotRun}
		}
		if c.decorate != nil {
			c.decorate(&r)
		}
		if c.OnResult != nil {
			c.OnResult(r)
		}
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *Client) network() stack.Network {
	if c.Network == nil {
		return &stack.OS{}
	}
	return c.Network
}

// RunTest runs one test. It returns an error only when the test could not start
// (server unreachable, test refused); a failure during the test is in Result.Error.
func (c *Client) RunTest(ctx context.Context, spec TestSpec) (Result, error) {
	res := Result{Proto: spec.Proto, Test: spec.Test, Size: spec.Size}
	if err := spec.check(frame.MaxFrameSize); err != nil {
		return res, err
	}
	kind := spec.Kind()
	_, res.UDPChecksumOff = kind.half.transport.(datagrams)
	res.UDPChecksumOff = res.UDPChecksumOff && c.NoUDPChecksum
	began := time.Now()
	ctl, server, err := c.dialControl(ctx)
	if err != nil {
		return res, &UnreachableError{Addr: c.Server, Err: err}
	}
	connect := time.Since(began)
	defer ctl.Close()
	stopCtl := context.AfterFunc(ctx, func() { ctl.SetDeadline(time.Unix(1, 0)) })
	defer stopCtl()
	rd := frame.NewReader(ctl, maxResult)
	wait := controlTimeout(10*time.Second, connect)
	ctl.SetDeadline(time.Now().Add(wait))
	w, err := c.handshake(ctl, rd, spec)
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) && !ue.Answered && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			ue.Silent = wait
		}
		return res, err
	}
	if err := checkWelcome(w, server); err != nil {
		return res, &BadServerError{Addr: c.Server, Err: err}
	}
	ctl.SetDeadline(time.Time{})

	// Data goes to the control connection's remote address and port, never to
	// a name resolved again nor to a port the server chose.
	dataAddr := server.String()
	settle := c.Settle
	if settle <= 0 {
		settle = 250 * time.Millisecond
	}
	stopAlive := keepAlive(ctl, w.Cookie, time.Duration(w.IdleNs))
	d := c.runData(ctx, kind, spec, w, dataAddr)
	stopAlive()
	res.Lifecycle = d.life
	if ctx.Err() != nil {
		// Interrupted: the test is cut short, and the deadline set below
		// must not undo the one that cancelling set.
		if d.err == nil || byCancel(ctx, d.err) {
			d.err = errInterrupted
		}
		c.merge(&res, spec, w, d, ServerView{}, false)
		res.Error = d.err.Error()
		if !d.opened {
			res.Extent = NotRun
		}
		return res, nil
	}

	// Tell the server we are done and collect its view.
	ctl.SetDeadline(time.Now().Add(controlTimeout(settle+maxSettle+15*time.Second, connect)))
	var view ServerView
	counted := false
	err = writeControl(ctl, w.Cookie, fin{Type: msgFin, SentFrames: d.sentFrames, SettleNs: int64(settle), EndSent: d.endSent})
	if err == nil {
		var r result
		_, err = readControl(rd, msgResult, &r)
		view, counted = r.View, err == nil
	}
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("collecting the server's counters: %w", err)
	}
	if err == nil {
		win := window{spec: spec, sent: d.sentFrames, elapsed: time.Since(began)}
		if c.SameHost {
			win.from, win.to = began, time.Now()
		}
		if verr := validateView(view, win); verr != nil {
			view, counted = ServerView{}, false
			if d.err == nil {
				d.err = fmt.Errorf("the server's report is inconsistent, so none of its figures is kept: %w", verr)
			}
		}
	}
	c.merge(&res, spec, w, d, view, counted)
	if d.err != nil {
		res.Error = d.err.Error()
		if view.Error != "" { // the server's reason (a cut, say) explains ours
			res.Error += " (server: " + cleanServerText(view.Error) + ")"
		}
	}
	if !d.opened && res.Error != "" {
		res.Extent = NotRun // no data socket, no figures: nothing ran
	}
	return res, nil
}

// dialControl opens the control connection and returns it with the server's
// address: where data goes.
func (c *Client) dialControl(ctx context.Context) (net.Conn, netip.AddrPort, error) {
	if c.control != nil {
		return c.control(ctx)
	}
	conn, err := c.network().Dial(ctx, "tcp", c.Server)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	ap, ok := addrPortOf(conn.RemoteAddr())
	if !ok {
		conn.Close()
		return nil, netip.AddrPort{}, fmt.Errorf("the control connection's remote address %v is not an IP address and port", conn.RemoteAddr())
	}
	return conn, ap, nil
}

// addrPortOf returns a connection end's IP address and port.
func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	default:
		var err error
		if ap, err = netip.ParseAddrPort(a.String()); err != nil {
			return ap, false
		}
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return ap, ap.IsValid() && ap.Port() != 0
}

// controlTimeout is how long one control exchange may take: base, or on a
// slow or lossy path long enough for TCP to back its retransmission timer off
// six times (1+2+...+32 = 63 timeouts) from the connect time or 200 ms,
// whichever is longer; at most 2 minutes.
func controlTimeout(base, connect time.Duration) time.Duration {
	return min(max(base, 63*max(200*time.Millisecond, connect)), 2*time.Minute)
}

// dataConnectTimeout bounds opening a data connection: TCP's handshake gets
// four tries (SYNs at 0, 1, 3 and 7 s), and the server, which waits for data
// for its idle timeout (10 s by default), is still there when it gives up.
const dataConnectTimeout = 8 * time.Second

// dataGrace is how long after a test's end the client's data phase may
// go on (its last write, the end of the stream): twice the server's idle
// timeout (10 s when the welcome gives none), after which the server has
// ended the session too.
func dataGrace(w welcome) time.Duration {
	idle := time.Duration(w.IdleNs)
	if idle <= 0 {
		idle = 10 * time.Second
	}
	return 2 * min(idle, time.Hour)
}

// StalledError ends a test whose data phase outlasted its duration by After:
// the server stopped taking data (or answering requests) and the client's
// write never completed.
type StalledError struct {
	Proto Proto
	After time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("the server stopped taking data: the %s data connection was still blocked %v after the test's end (is the server reading?)", e.Proto, e.After)
}

// dataOutcome is what the client measured on its data socket.
type dataOutcome struct {
	send       stats.SendReport
	pp         stats.PingPongReport
	rtt        *stats.RTT
	info       tcp.Info
	hasInfo    bool
	sentFrames uint64
	life       Lifecycle
	connectAt  time.Time
	finAt      time.Time // TCP: when the client half-closed (sent its FIN)
	finTimed   bool      // TCP: nothing was left to send when the FIN went
	idle       bool      // nothing is in flight once the kind's send returns (round trips)
	endSent    bool      // UDP: the end datagrams went out
	datagrams  uint64    // UDP: datagrams written, frames and end datagrams
	// opened: the data socket was opened and attached; without it no data
	// moved, and the test did not run (NotRun), whatever the server says.
	opened bool
	err    error
}

func (c *Client) runData(ctx context.Context, kind *Kind, spec TestSpec, w welcome, addr string) dataOutcome {
	var d dataOutcome
	var tr stack.Trace
	tp := kind.half.transport
	d.connectAt = time.Now()
	// A link that drops every packet never completes TCP's handshake: give up
	// in bounded time, within the server's wait for data to start.
	dialCtx, cancel := context.WithTimeout(ctx, dataConnectTimeout)
	dctx := tp.dialContext(stack.WithTrace(dialCtx, &tr), c)
	conn, err := c.network().Dial(dctx, tp.network(), addr)
	cancel()
	if err != nil {
		if ctx.Err() == nil && dialCtx.Err() != nil {
			d.err = fmt.Errorf("the %s data connection to %s never got through: no handshake completed in %v", spec.Proto, addr, dataConnectTimeout)
		} else {
			d.err = fmt.Errorf("opening the %s data socket to %s: %w", spec.Proto, addr, err)
		}
		return d
	}
	d.life.fromTrace(tr, kind.Has(FigConnection))
	if err := tp.attach(conn, w.Cookie); err != nil {
		conn.Close()
		d.err = fmt.Errorf("attaching the data connection: %w", err)
		return d
	}
	d.opened = true
	warmup := min(spec.Duration/20, 250*time.Millisecond)
	// A server that stops reading holds a TCP write (or a request's) for
	// ever: the data phase ends when the server itself would have ended the
	// session, the test's duration and twice its idle timeout on.
	grace := dataGrace(w)
	stalled := &StalledError{Proto: spec.Proto, After: grace}
	sctx, cancelSend := context.WithTimeoutCause(ctx, spec.Duration+grace, stalled)
	defer cancelSend()
	kind.half.send(sctx, conn, sendParams{spec: spec, cookie: w.Cookie, live: c.Live, warmup: warmup, wait: waitFor(spec, c.inProcess)}, &d)
	tp.end(sctx, conn, w.Cookie, &d)
	if ctx.Err() == nil && errors.Is(context.Cause(sctx), stalled) {
		d.err = stalled
	}
	if c.drain != nil {
		// The path's queue, end datagrams included, reaches the server
		// before the fin does (and counts in this test's link counters).
		c.drain(ctx, d.datagrams)
	}
	t0 := time.Now()
	_ = conn.Close()
	d.life.CloseUS = ptr(us(time.Since(t0)))
	return d
}

// waitPeerClose waits for the server to close its side after our FIN, so that
// every byte we wrote has been read and TCP_INFO is final. Leftover bytes are
// an error: the server should have sent nothing more.
func waitPeerClose(conn net.Conn, timeout time.Duration) error {
	conn.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	n, err := conn.Read(b[:])
	switch {
	case n > 0:
		return errLeftover
	case errors.Is(err, io.EOF):
		return nil
	default:
		return fmt.Errorf("waiting for the server to close the data connection: %w", err)
	}
}

func (l *Lifecycle) fromTrace(tr stack.Trace, isTCP bool) {
	if tr.HasSocket {
		l.SocketUS = ptr(us(tr.Socket))
	}
	if tr.HasConnect {
		l.ConnectUS = ptr(us(tr.Connect))
	}
	l.Handshake = isTCP
}

// merge builds the Result from both ends' views; counted says the server's
// view is there (not lost, interrupted or refused as inconsistent).
func (c *Client) merge(res *Result, spec TestSpec, w welcome, d dataOutcome, v ServerView, counted bool) {
	kind := spec.Kind()
	if kind == nil {
		return
	}
	kind.half.transport.lifecycle(&res.Lifecycle, w, d, v, c.SameHost)
	kind.half.merge(res, d, v, mergeInfo{spec: spec, sameHost: c.SameHost, counted: counted})
	res.LostPct = pct(res.LostFrames, res.SentFrames)
	if d.hasInfo {
		res.TCP = tcpInfo(d.info)
	}
	if v.Error != "" && d.err == nil {
		res.Error = "server: " + cleanServerText(v.Error)
	}
}

// byCancel reports whether err is how the data phase saw ctx end: the
// context's own error, or the deadline or close with which cancelling
// unblocked a read or write. Any other error is the test's own, kept even
// when an interruption followed it.
func byCancel(ctx context.Context, err error) bool {
	return errors.Is(err, ctx.Err()) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed)
}

// startInterrupted is a test's error when its context ended (Ctrl-C,
// SIGTERM) before it had a result: during the connect or the hello, or
// during a --bitrate max search's trials. It is the context's error
// underneath (errors.Is(err, context.Canceled)).
type startInterrupted struct {
	ctx       error
	searching bool // a bit rate search was under way
}

func (e startInterrupted) Error() string {
	if e.searching {
		return "interrupted during the --bitrate max search, before its result"
	}
	return "interrupted before the test started"
}
func (e startInterrupted) Unwrap() error { return e.ctx }

var (
	errLeftover    = errors.New("the server sent unexpected data after the test")
	errInterrupted = errors.New("interrupted before the test's end")
)
