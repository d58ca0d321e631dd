package duel

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
	"github.com/netduel/netduel/udp"
)

// ServerConfig configures a Server. Zero values take the defaults shown.
type ServerConfig struct {
	Network    stack.Network // default &stack.OS{}
	Listen     string        // host:port for TCP and UDP alike; default "127.0.0.1:0"
	MaxClients int           // concurrent sessions; default 64
	// MaxClientsPerIP caps the sessions of one source IP address, so that one
	// host cannot take every slot; default MaxClients/4 (at least 1). Nothing is
	// exempt: loopback clients all share 127.0.0.1, so a test or a benchmark
	// running many clients from one host raises it.
	MaxClientsPerIP int
	MaxDuration     time.Duration // longest test accepted; default 10 minutes
	// MaxBitrate is the highest rate a session's data may reach, bits/s of frame
	// bytes received (0 = no limit). It is enforced by measurement for every
	// test kind: a UDP session over it is cut (and its result says so), a TCP
	// data connection is read no faster. A UDP throughput hello asking for more,
	// or for no pacing, is refused at once.
	MaxBitrate  float64
	MaxFrame    int           // largest data frame accepted; default 4 MiB (control frames: 64 KiB)
	IdleTimeout time.Duration // a connection or session silent this long is closed; default 10 s
	// HelloTimeout bounds how long a new connection may take to send its first
	// frame (and, with a token, to complete the authentication); default 5 s.
	HelloTimeout time.Duration
	// MaxPending and MaxPendingPerIP cap the connections that have not yet
	// sent their hello or first frame, in total and per source IP; defaults
	// 4*MaxClients and 2*MaxClientsPerIP (at least 16). Over a cap, the oldest
	// such connection is closed.
	MaxPending, MaxPendingPerIP int
	// Token, if set, requires every client to prove it knows it (HMAC-SHA256
	// challenge-response; see auth.go). It never crosses the wire.
	Token string
	// AllowBusyPoll lets a latency test's hello ask the server to spin while
	// it waits for the test's requests (--busy-poll): a core's worth of CPU
	// per such session, so only an operator who means it allows it.
	AllowBusyPoll bool
	// Netpoller makes latency tests wait for their requests through Go's
	// netpoller rather than blocked in the kernel: for a server whose clients
	// run in its own process (an embedded run), where it is faster.
	Netpoller bool
	Logf      func(format string, args ...any)
}

// waitFor is how a test's end waits for its next message (stack.Receiver):
// spinning if the test asked for busy polling, through the netpoller beside
// a peer in the same process, else blocked in the kernel.
func waitFor(spec TestSpec, inProcess bool) string {
	switch {
	case spec.BusyPoll:
		return stack.WaitBusyPoll
	case inProcess:
		return stack.WaitNetpoller
	}
	return stack.WaitBlocking
}

func (s *Server) waitFor(spec TestSpec) string { return waitFor(spec, s.cfg.Netpoller) }

// DefaultMaxFrame is the largest frame (header included) a server takes when
// its config names none: the embedded server's limit, and serve's default
// --max-frame.
const DefaultMaxFrame = 4 << 20

func (c *ServerConfig) setDefaults() {
	if c.Network == nil {
		c.Network = &stack.OS{}
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 64
	}
	if c.MaxClientsPerIP <= 0 {
		c.MaxClientsPerIP = max(1, c.MaxClients/4)
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 4 * c.MaxClients
	}
	if c.MaxPendingPerIP <= 0 {
		c.MaxPendingPerIP = max(16, 2*c.MaxClientsPerIP)
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 5 * time.Second
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = 10 * time.Minute
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	c.MaxFrame = min(c.MaxFrame, frame.MaxFrameSize)
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 10 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Server serves tests to many clients at once, each in its own session. It listens
// on one port number for TCP (control and data connections) and UDP (datagrams).
// Its methods are safe for concurrent use.
type Server struct {
	cfg   ServerConfig
	ln    net.Listener
	pc    net.PacketConn
	port  int
	setup ServerSetup
	usrv  *udp.Server // the datagram loop on pc

	mu          sync.Mutex
	sessions    map[uint64]*session
	perIP       map[netip.Addr]int // sessions per control peer IP
	held        int                // bytes of the frames sessions hold whole (see heldFrame)
	conns       map[net.Conn]struct{}
	pending     *list.List // of *pendingConn, oldest first
	pendingEl   map[net.Conn]*list.Element
	pendingByIP map[netip.Addr]int
	closed      bool
	noise       noiseLog // bounds the log about connections that are not sessions

	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// NewServer binds the TCP listener and the UDP socket on the same port number.
// With port 0 the kernel picks the TCP port, and the UDP socket takes the same
// number (retrying with a new port if UDP has it taken).
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg.setDefaults()
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("listen address %q: port must be 0-65535", cfg.Listen)
	}
	s := &Server{cfg: cfg, sessions: map[uint64]*session{}, perIP: map[netip.Addr]int{}, conns: map[net.Conn]struct{}{},
		pending: list.New(), pendingEl: map[net.Conn]*list.Element{}, pendingByIP: map[netip.Addr]int{}}
	tries := 1
	if port == 0 {
		tries = 20
	}
	for i := 0; i < tries; i++ {
		err = s.bind(host, port)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || port != 0 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s.usrv = &udp.Server{PC: s.pc, Lookup: s.lookupFlow, MaxFrame: s.cfg.MaxFrame, Netpoller: s.cfg.Netpoller}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func (s *Server) bind(host string, port int) error {
	var ttr, utr stack.Trace
	ctx := stack.WithTrace(context.Background(), &ttr)
	ln, err := s.cfg.Network.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ctx = stack.WithTrace(context.Background(), &utr)
	pc, err := s.cfg.Network.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(p)))
	if err != nil {
		ln.Close()
		return fmt.Errorf("UDP port %d (same number as TCP): %w", p, err)
	}
	s.ln, s.pc, s.port = ln, pc, p
	s.setup = ServerSetup{
		TCPSocketUS: us(ttr.Socket), TCPBindUS: us(ttr.Bind), TCPListenUS: us(ttr.Listen),
		UDPSocketUS: us(utr.Socket), UDPBindUS: us(utr.Bind),
	}
	return nil
}

// Addr returns the address the server listens on (TCP and UDP share the port).
func (s *Server) Addr() netip.AddrPort { return s.ln.Addr().(*net.TCPAddr).AddrPort() }

// Setup returns how long the server's sockets took to set up.
func (s *Server) Setup() ServerSetup { return s.setup }

// Sessions returns the number of sessions in progress.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Serve accepts connections and datagrams until ctx is done or Close is called,
// then closes every connection and waits for its goroutines. It returns nil after
// a requested shutdown.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.Close)
	defer stop()
	udpErr := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		udpErr <- s.usrv.Serve()
	}()
	var err error
	for {
		conn, aerr := s.ln.Accept()
		if aerr != nil {
			if s.isClosed() {
				break
			}
			var ne net.Error
			if errors.As(aerr, &ne) && ne.Timeout() || errors.Is(aerr, syscall.EMFILE) || errors.Is(aerr, syscall.ENFILE) || errors.Is(aerr, syscall.ECONNABORTED) {
				s.noisef("accept: %v", aerr)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			err = aerr
			s.Close()
			break
		}
		accepted := time.Now()
		if !s.track(conn, addrOf(conn.RemoteAddr())) {
			conn.Close()
			break
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(conn)
			s.handleConn(conn, accepted)
		}()
	}
	s.wg.Wait()
	// After Close, the socket's closing error (net.ErrClosed, or EOF from a
	// user-space stack) is the requested end, not a failure.
	if uerr := <-udpErr; err == nil && uerr != nil && !s.isClosed() {
		err = uerr
	}
	return err
}

// Close stops the server: listeners, sessions and connections are closed. Serve
// returns once everything has stopped.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	s.ln.Close()
	stack.Interrupt(s.pc) // wake the datagram loop's blocked read (udp.Server.Serve)
	s.pc.Close()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a new connection (pending until it proves what it is),
// closing the oldest pending ones over the caps.
func (s *Server) track(c net.Conn, ip netip.Addr) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.conns[c] = struct{}{}
	evicted := s.addPending(c, ip)
	s.mu.Unlock()
	for _, e := range evicted {
		tellEvicted(e)
	}
	return true
}

// evictedWrite bounds telling an evicted connection why it is closed: the
// message fits its empty send buffer, so the write does not wait for the
// peer (a peer that reads nothing cannot hold the accept loop).
const evictedWrite = 10 * time.Millisecond

// tellEvicted closes a pending connection evicted over the caps, first
// telling it why (best effort, bounded): a client waiting for its welcome
// then says the server was busy, not that it went away.
func tellEvicted(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(evictedWrite))
	_ = writeControl(c, 0, errorMsg{Type: msgError, Error: "server busy: too many connections waiting to start a test (its limit on pending connections); try again later"})
	c.Close()
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	if e := s.pendingEl[c]; e != nil {
		s.dropPending(e)
	}
	s.mu.Unlock()
}

// handleConn reads a new connection's first frame: a hello (cookie 0) opens a
// control session; a control frame carrying a live session's cookie, from that
// session's peer, attaches a TCP data connection. Anything else closes it.
//
// Until then the connection is pending (capped, see pending.go), must send its
// first frame within the hello timeout, and may send no frame over maxControl.
func (s *Server) handleConn(conn net.Conn, accepted time.Time) {
	peer := addrOf(conn.RemoteAddr())
	conn.SetReadDeadline(accepted.Add(s.cfg.HelloTimeout))
	mc := &meteredConn{Conn: conn}
	rd := frame.NewReader(mc, maxControl)
	h, body, err := rd.Next()
	if err != nil {
		if !errors.Is(err, net.ErrClosed) { // closed by us: evicted by a newer connection
			s.noisef("%s: closed before a valid first frame: %v", conn.RemoteAddr(), err)
		}
		return
	}
	if h.Type != frame.TypeControl {
		s.noisef("%s: first frame is %s, not control: closed", conn.RemoteAddr(), h.Type)
		return
	}
	if h.Cookie == 0 {
		s.framedPending(conn)
		s.control(conn, rd, body, peer)
		return
	}
	s.donePending(conn)
	sess := s.find(h.Cookie, peer)
	if sess == nil {
		s.noisef("%s: unknown session cookie: closed", conn.RemoteAddr())
		return
	}
	mc.attach(sess, s.cfg.MaxBitrate)
	rd.SetMax(s.cfg.MaxFrame)
	sess.serveData(conn, rd, accepted)
}

// find returns the live session for cookie if peer is its control peer.
func (s *Server) find(cookie uint64, peer netip.Addr) *session {
	s.mu.Lock()
	sess := s.sessions[cookie]
	s.mu.Unlock()
	if sess == nil || sess.peer != peer {
		return nil
	}
	return sess
}

// lookupFlow is the UDP loop's session lookup. The first datagram carrying a
// session's cookie from its control peer's IP binds the session to that source
// address and port; datagrams from any other source are dropped unanswered.
func (s *Server) lookupFlow(cookie uint64, src netip.AddrPort) *udp.Flow {
	sess := s.find(cookie, src.Addr())
	if sess == nil || !sess.bindUDP(src) {
		return nil
	}
	return sess.flow
}

func (s *Server) addSession(sess *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is shutting down")
	}
	if len(s.sessions) >= s.cfg.MaxClients {
		return fmt.Errorf("server busy: %d sessions in progress (its limit); try again later", len(s.sessions))
	}
	if n := s.perIP[sess.peer]; n >= s.cfg.MaxClientsPerIP {
		return fmt.Errorf("server busy: %d sessions in progress from %s (its per-address limit, --max-clients-per-ip); try again later", n, sess.peer)
	}
	need := heldFrame(sess.spec)
	if need > 0 && s.held+need > maxHeldFrames {
		return fmt.Errorf("server busy: its %d MiB for large echo requests is held by the sessions in progress (this one's requests are %d KiB); try again later, or with a smaller --size", maxHeldFrames>>20, need>>10)
	}
	s.held += need
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c := binary.BigEndian.Uint64(b[:])
		if c != 0 && s.sessions[c] == nil {
			sess.cookie = c
			break
		}
	}
	s.sessions[sess.cookie] = sess
	s.perIP[sess.peer]++
	return nil
}

// maxHeldFrames bounds the bytes of large frames the server's sessions hold
// whole at once: a TCP echo keeps each request until its reply is written,
// so 64 sessions from four addresses, each with a 4 MiB request all but its
// last byte sent, pinned 372 MB of the server's memory. 64 MiB is 16 such
// sessions (DESIGN: 256 sessions in under 200 MB).
const maxHeldFrames = 64 << 20

// heldFrame is how many bytes of a frame a session of t holds whole at a
// time, counted against maxHeldFrames: a TCP echo's request over the
// reader's own 64 KiB; 0 for the rest (a throughput stream's bodies pass
// through a bounded buffer, a datagram is at most 64 KiB).
func heldFrame(t TestSpec) int {
	if t.Proto != ProtoTCP || t.Test != TestLatency || t.Size <= 64<<10 {
		return 0
	}
	return t.Size
}

// removeSession frees the session's slot. It is idempotent.
func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.cookie] != sess {
		return
	}
	if sess.flow != nil {
		// Before the delete: the UDP loop may hold the flow from an
		// earlier lookup, and one made meanwhile sees it retired.
		sess.flow.Retire()
	}
	delete(s.sessions, sess.cookie)
	s.held -= heldFrame(sess.spec)
	if s.perIP[sess.peer]--; s.perIP[sess.peer] <= 0 {
		delete(s.perIP, sess.peer)
	}
}

func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
