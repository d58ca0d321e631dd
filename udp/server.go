package udp

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/stats"
)

// Mode says what a Flow does with the frames that reach it.
type Mode uint8

const (
	// ModeReceive accounts for data frames (a throughput test).
	ModeReceive Mode = iota + 1
	// ModeEcho answers echo requests with a reply of the same size (a latency test).
	ModeEcho
)

// Flow is the server's state for one session's datagrams. Its methods are safe
// for concurrent use: the datagram loop writes, the session's control handler reads.
type Flow struct {
	mode Mode

	mu       sync.Mutex
	recv     *stats.Receiver
	echoed   uint64 // echo replies sent
	requests uint64 // echo requests received intact
	first    time.Time
	last     time.Time
	ended    bool // an end datagram (frame.TypeFin) arrived
	gate     func(n int, now time.Time) bool
	retired  atomic.Bool // Retire: Serve drops the flow's datagrams
}

// Retire tells Serve that the flow's session is gone: from now on its
// datagrams are dropped, as Lookup would drop them, even where Serve reuses
// an earlier Lookup's answer for the same cookie and source (see Lookup).
// The owner calls it when it stops answering Lookup for the flow.
func (f *Flow) Retire() { f.retired.Store(true) }

// NewFlow returns a Flow in the given mode.
func NewFlow(mode Mode) *Flow {
	f := &Flow{mode: mode}
	if mode == ModeReceive {
		f.recv = stats.NewReceiver()
	}
	return f
}

// SetInterval makes a receiving Flow record per-interval figures (see
// stats.Receiver.SetInterval). Call it before datagrams arrive.
func (f *Flow) SetInterval(d, total time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recv != nil {
		f.recv.SetInterval(d, total)
	}
}

// SetGate installs a check that every datagram of the flow passes before it is
// accounted or answered: gate gets the datagram's length and arrival time, and a
// false return drops the datagram without an answer (the session's rate limit,
// a session cut off). It is called with the flow's lock held, so it needs no
// locking of its own against other datagrams. Call it before datagrams arrive.
func (f *Flow) SetGate(gate func(n int, now time.Time) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = gate
}

// FlowReport is the server's view of a Flow.
type FlowReport struct {
	Recv     stats.RecvReport // ModeReceive
	Requests uint64           // ModeEcho: intact echo requests received
	Echoed   uint64           // ModeEcho: replies sent
	First    time.Time        // first datagram accepted for the flow (zero if none)
	Last     time.Time        // last datagram accepted for the flow
}

// Report returns the Flow's counters, given the number of frames the client
// says it sent.
func (f *Flow) Report(sent uint64) FlowReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := FlowReport{Requests: f.requests, Echoed: f.echoed, First: f.first, Last: f.last}
	if f.recv != nil {
		r.Recv = f.recv.Report(sent)
	}
	return r
}

// Progress returns how many distinct frames (receive mode) or intact echo
// requests (echo mode) the Flow has accepted so far, and when the last
// datagram was accepted: what a server waiting for frames still in flight
// watches.
func (f *Flow) Progress() (n uint64, last time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recv != nil {
		return f.recv.Unique(), f.last
	}
	return f.requests, f.last
}

// Ended reports whether the client's end datagram (SendEnd) has arrived:
// every datagram sent before it on a path that keeps order has been
// accounted.
func (f *Flow) Ended() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ended
}

// Lookup finds the flow for a cookie, given the datagram's source address (IP
// and port, IPv4-mapped addresses unmapped). It returns nil when the cookie is
// unknown or the source is not the one the session owns: such datagrams are
// dropped without an answer. Its answer for a cookie and source must hold
// until the flow is retired (Flow.Retire): Serve keeps its last answer and
// asks again only for another cookie or source, or once that flow is retired
// (duel's lookup, two locks and a map read, took 20-40 ns of a busy-poll echo
// request's 310-330 ns way to its reply on 2026-12-04).
type Lookup func(cookie uint64, src netip.AddrPort) *Flow

// Server is the server's datagram loop on one UDP socket shared by every session.
type Server struct {
	PC       net.PacketConn
	Lookup   Lookup
	MaxFrame int // largest frame accepted; 0 means MaxDatagram
	// Netpoller keeps Serve's reads in Go's netpoller rather than blocked in
	// the kernel (stack.Blocking): for a server whose clients run in its own
	// process, where it is the faster of the two.
	Netpoller bool

	last       lookupCache  // Serve's last Lookup answer (Serve's goroutine only)
	blocking   atomic.Bool  // Serve reads PC through a stack.Blocking
	busy       atomic.Int32 // sessions that asked for busy polling (Busy)
	latency    atomic.Int32 // latency sessions in progress (Latency)
	throughput atomic.Int32 // throughput sessions in progress (Throughput)
}

// Throughput adds (on) or removes a session whose test is a throughput
// test: while any is in progress Serve asks the kernel for UDP GRO (runs of
// a sender's datagrams handed over as one read, which a GSO sender's
// traffic needs to be cheap) and reads with recvmsg(2) for where to cut
// them; otherwise it reads single datagrams with recvfrom(2), without a
// message header to fill and take apart: less work per echo request and
// per empty try of a spinning read. Serve looks at the count before each
// read, so a change takes effect from the datagram after the next one on:
// until then the kernel cuts a GSO sender's runs into single datagrams
// (GRO off) or hands over single datagrams with their control message (GRO
// on), both read correctly.
func (s *Server) Throughput(on bool) { count(&s.throughput, on) }

// Latency adds (on) or removes a session whose test is a latency test: while
// any is in progress Serve's blocking reads may be raw system calls
// (stack.Blocking.SetRawWhile), the faster wake-up; otherwise they are
// ordinary ones, which leave the runtime all its Ps while Serve waits.
func (s *Server) Latency(on bool) { count(&s.latency, on) }

// Busy adds (on) or removes a session that asked for busy polling: while any
// is in progress, Serve's reads spin instead of sleeping in the kernel
// (where PC allows blocking reads at all; see Wait).
func (s *Server) Busy(on bool) { count(&s.busy, on) }

// idle: no session that sends datagrams is in progress.
func (s *Server) idle() bool {
	return s.throughput.Load() == 0 && s.latency.Load() == 0 && s.busy.Load() == 0
}

// count adds a session to c (on) or removes one.
func count(c *atomic.Int32, on bool) {
	if on {
		c.Add(1)
	} else {
		c.Add(-1)
	}
}

// Wait names how Serve waits for datagrams now (stack.WaitBlocking...).
func (s *Server) Wait() string {
	switch {
	case !s.blocking.Load():
		return stack.WaitNetpoller
	case s.busy.Load() > 0:
		return stack.WaitBusyPoll
	}
	return stack.WaitBlocking
}

// Serve reads datagrams until PC is closed (call stack.Interrupt(PC) just
// before closing it, or the close may wait for stack.PollInterval). A datagram that is not a valid frame,
// or whose cookie does not belong to a session of its source address, is dropped
// without an answer. An echo reply is never larger than its request.
// Serve returns nil once PC has been closed.
func (s *Server) Serve() error {
	uc, _ := s.PC.(*net.UDPConn)
	maxFrame := s.MaxFrame
	if maxFrame <= 0 || maxFrame > MaxDatagram {
		maxFrame = MaxDatagram
	}
	// With UDP GRO the kernel hands over runs of same-sized datagrams from one
	// sender as one read; the control message says where to cut. It is on
	// while throughput sessions are (see Throughput). A run it coalesced
	// and left queued when it went off is read whole, without the cut: its
	// first frame's length differs from the read's, and the frame check
	// drops it (its session has ended).
	canGRO, gro := uc != nil && groOOBLen > 0, false
	buf := make([]byte, 65535+1)
	oob := make([]byte, groOOBLen)
	// An OS socket is read blocked in the kernel on this goroutine's own
	// thread (stack.Blocking): an echo request is answered without a trip
	// through the netpoller. Whoever closes PC calls stack.Interrupt first.
	var blk *stack.Blocking
	if uc != nil && !s.Netpoller {
		if b, ok := stack.NewBlocking(uc); ok {
			defer b.Release()
			blk = b
			blk.SetBusyWhile(func() bool { return s.busy.Load() > 0 })
			blk.SetRawWhile(func() bool { return s.latency.Load() > 0 })
			// With no UDP session in progress, wait as any net.Conn does: a
			// blocking call that waits long has the runtime's monitor take
			// its P and poll every 20 µs for milliseconds each time, CPU
			// taken from other sessions (see SetNetpollWhile).
			blk.SetNetpollWhile(func() bool { return s.idle() })
			s.blocking.Store(true)
			defer s.blocking.Store(false)
		}
	}
	for {
		var (
			n, oobn int
			src     netip.AddrPort
			err     error
		)
		if want := s.throughput.Load() > 0; canGRO && want != gro {
			if setGRO(uc, want) {
				gro = want
			} else if want {
				canGRO = false // refused: single datagrams, as without it
			}
		}
		switch {
		case blk != nil && gro:
			n, oobn, src, err = blk.ReadMsgUDP(buf, oob)
		case blk != nil:
			n, src, err = blk.ReadFromUDP(buf)
		case gro:
			n, oobn, _, src, err = uc.ReadMsgUDPAddrPort(buf, oob)
		case uc != nil:
			n, src, err = uc.ReadFromUDPAddrPort(buf)
		default:
			var a net.Addr
			n, a, err = s.PC.ReadFrom(buf)
			if ua, ok := a.(*net.UDPAddr); ok {
				src = ua.AddrPort()
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return nil
			}
			if transient(err) || isTimeout(err) {
				continue
			}
			return err
		}
		seg := n
		if gro {
			if g := groSegment(oob[:oobn]); g > 0 {
				seg = g
			}
		}
		s.handleRead(buf[:n], seg, src, maxFrame, replier{uc, blk, s.PC})
	}
}

// handleRead handles one read: a datagram, or with GRO a run of datagrams of
// seg bytes from one source. The session lookup and its lock are taken once per
// read, not once per datagram.
func (s *Server) handleRead(b []byte, seg int, src netip.AddrPort, maxFrame int, w replier) {
	now := time.Now()
	var (
		f      *Flow
		cookie uint64
	)
	defer func() {
		if f != nil {
			f.mu.Unlock()
		}
	}()
	for off := 0; off < len(b); off += seg {
		d := b[off:min(off+seg, len(b))]
		h, body, bodyCRC, err := frame.DecodeCRC(d, maxFrame)
		corrupt := errors.Is(err, frame.ErrChecksum)
		if err != nil && !corrupt {
			continue
		}
		if f == nil || h.Cookie != cookie {
			if f != nil {
				f.mu.Unlock()
			}
			cookie = h.Cookie
			if f = s.lookup(h.Cookie, src); f == nil {
				continue
			}
			f.mu.Lock()
		}
		if f.gate != nil && !f.gate(len(d), now) {
			continue
		}
		if f.first.IsZero() {
			f.first = now
		}
		f.last = now
		s.handle(f, d, h, body, bodyCRC, corrupt, src, w, now)
	}
}

// lookupCache is a cookie and source that Lookup answered with f.
type lookupCache struct {
	cookie uint64
	src    netip.AddrPort // as read, IPv4-mapped or not
	f      *Flow
}

// lookup is Lookup's answer for cookie and src, from s.last while its flow is
// not retired.
func (s *Server) lookup(cookie uint64, src netip.AddrPort) *Flow {
	if c := &s.last; c.f != nil && c.cookie == cookie && c.src == src && !c.f.retired.Load() {
		return c.f
	}
	f := s.Lookup(cookie, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	if f != nil && f.retired.Load() {
		f = nil // retired before Lookup let go of it
	}
	if f != nil {
		s.last = lookupCache{cookie, src, f}
	}
	return f
}

// handle handles one datagram for its flow, whose lock the caller holds.
func (s *Server) handle(f *Flow, b []byte, h frame.Header, body []byte, bodyCRC uint32, corrupt bool, src netip.AddrPort, w replier, now time.Time) {
	if h.Type == frame.TypeFin {
		f.ended = f.ended || !corrupt
		return
	}
	switch f.mode {
	case ModeReceive:
		if corrupt {
			f.recv.Corrupt(len(b))
			return
		}
		if h.Type != frame.TypeData {
			return
		}
		// One pass: the body's CRC against the pattern's verifies the body.
		f.recv.Frame(h.Seq, h.Timestamp, now, len(b), len(body), bodyCRC == frame.PatternCRC(len(body), h.Seq))
	case ModeEcho:
		if corrupt || h.Type != frame.TypeEchoRequest {
			return
		}
		f.requests++
		// Reply in place: same sequence, same body, same size as the
		// request, its CRC completed over the body's the read computed.
		h.Type = frame.TypeEchoReply
		if err := frame.SealHeader(b[:frame.HeaderLen], h, bodyCRC); err != nil {
			return
		}
		if w.reply(b, src) == nil {
			f.echoed++
		}
	}
}

// replier sends Serve's replies the way it reads: through its
// stack.Blocking while it has one (the netpoller no longer watches the socket
// then), else through the socket.
type replier struct {
	uc  *net.UDPConn
	blk *stack.Blocking
	pc  net.PacketConn
}

func (w replier) reply(b []byte, to netip.AddrPort) error {
	var err error
	switch {
	case w.blk != nil:
		_, err = w.blk.WriteToUDPAddrPort(b, to)
	case w.uc != nil:
		_, err = w.uc.WriteToUDPAddrPort(b, to)
	default:
		_, err = w.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	return err
}
