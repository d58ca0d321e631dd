package stack

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Blocking reads one OS socket in the kernel's blocking mode, from one
// goroutine at a time (see the package's notes above PollInterval). While it
// is in use the socket's descriptor is in blocking mode and the netpoller no
// longer watches it for reads (see quiet), so the net.Conn's own reads would
// block their thread, or wait for ever: read only through the Blocking until
// Release. A datagram socket's sends go through the Blocking too (Write,
// WriteToUDPAddrPort); a stream's may go through either, and its write
// deadlines hold. Reads are not safe for concurrent use, nor are sends.
type Blocking struct {
	blockingDeadline
	rc       syscall.RawConn
	stream   bool
	busy     func() bool   // nil: never
	rawOK    func() bool   // nil: always (see SetRawWhile)
	tries    atomic.Uint64 // receive calls made (tests watch it)
	rawTries uint64        // raw tries since the last wakeMonitor
	raws     atomic.Uint64 // of which raw and blocking (tests watch it)
	procs    int32         // GOMAXPROCS when b was made (asking takes a lock)
	reg      pollReg       // the netpoller's registration, narrowed (see quiet)
	quiet    bool          // reg is narrowed and must be restored
	hasReg   bool          // reg was found (see quiet, listen)
	idle     func() bool   // nil: never (see SetNetpollWhile)
	raw      bool          // this read's system call is raw (see read)
	inet6    bool          // the socket is AF_INET6 (for WriteToUDPAddrPort)

	// Stamps (SetStamps): when the last receive returned data, read by
	// the reading goroutine, and when the last send's system call began,
	// by the sending one (a ping-pong's client is both).
	stamps      bool
	readAt      time.Time
	sentAt      time.Time
	sendStamped bool // this Write's send is stamped (a stream's may take several calls)

	// A read's arguments and results, and the callbacks that take them
	// (made once: a closure made per read would escape, and allocate).
	p, oob        []byte
	flags         int
	n, oobn       int
	errn          syscall.Errno
	recvFn, msgFn func(fd uintptr) bool
	fromFn        func(fd uintptr) bool
	// spinFn makes up to clockEvery tries of spun (a spinning read's
	// receive) in one callback (see read).
	spinFn, spun func(fd uintptr) bool
	pollFn       func(fd uintptr) bool // one try of spun, else the netpoller (see SetNetpollWhile)
	fromLen      uint32
	msg          unix.Msghdr
	iov          unix.Iovec
	from         unix.RawSockaddrAny
	fromZone     zoneCache // the source's IPv6 zone, by scope ID

	// A send's, likewise (sends may come from another goroutine than reads).
	wp               []byte
	wn               int
	werrn            syscall.Errno
	to               unix.RawSockaddrAny
	tolen            uintptr
	toZone           zoneCache
	sendFn, streamFn func(fd uintptr) bool
}

// rawSlots counts the Blocking reads in a raw system call now: at most
// GOMAXPROCS-1 at once, so that one P is always left for everything else.
var rawSlots atomic.Int32

// NewBlocking puts c (a *net.UDPConn or *net.TCPConn) into blocking mode and
// out of the netpoller's sight for reads until Release. It reports false,
// and changes nothing, for any other connection.
//
// The goroutine is not locked to its thread: a read in a system call keeps
// its thread anyway, and a spinning read that the runtime preempts (every
// 10 ms) goes on on whichever thread picks it up next, at once; a locked
// one waited for two thread hand-offs, on two CPUs both busy spinning (TCP
// busy-poll RTT p99 1-3 ms in 3 of 4 runs locked, 156-177 µs unlocked).
func NewBlocking(c any) (*Blocking, bool) {
	var stream bool
	switch c.(type) {
	case *net.UDPConn:
	case *net.TCPConn:
		stream = true
	default:
		return nil, false
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, false
	}
	tv := unix.NsecToTimeval(int64(PollInterval))
	var serr error
	// The send timeout matters as much: a write that would block (a peer
	// that does not read) returns EAGAIN within PollInterval, and the
	// net.Conn's Write then waits in the netpoller, deadlines and all, as it
	// always did; without it a blocking write ignored them, for ever.
	b := &Blocking{rc: rc, stream: stream, procs: int32(runtime.GOMAXPROCS(0))}
	if err := rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); serr == nil {
			serr = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
		}
		if serr == nil {
			serr = unix.SetNonblock(int(fd), false)
		}
		if serr != nil {
			return
		}
		if sa, err := unix.Getsockname(int(fd)); err == nil {
			_, b.inet6 = sa.(*unix.SockaddrInet6)
		}
		if r, ok := findPollReg(int(fd)); ok && r.modify(quietEvents(r.events, stream)) == nil {
			b.reg, b.quiet, b.hasReg = r, true, true
		}
	}); err != nil || serr != nil {
		b.restore()
		return nil, false
	}
	b.recvFn = func(fd uintptr) bool {
		b.n, b.errn = b.recv(fd, b.p, b.flags, false)
		b.stampRead()
		return true
	}
	b.fromFn = func(fd uintptr) bool {
		b.n, b.errn = b.recv(fd, b.p, b.flags, true)
		b.stampRead()
		return true
	}
	b.msgFn = func(fd uintptr) bool {
		b.n, b.oobn, b.errn = b.recvmsg(fd, b.p, b.oob, b.flags)
		b.stampRead()
		return true
	}
	b.pollFn = func(fd uintptr) bool { // false: wait in the netpoller
		b.spun(fd)
		return b.errn != unix.EAGAIN
	}
	b.spinFn = func(fd uintptr) bool {
		k := uint64(1)
		for b.spun(fd); (b.errn == unix.EAGAIN || b.errn == unix.EINTR) && k < clockEvery; k++ {
			b.spun(fd)
		}
		b.tries.Add(k - 1) // read counted the first
		return true
	}
	b.sendFn = func(fd uintptr) bool {
		b.stampSend()
		b.wn, b.werrn = send(fd, b.wp, &b.to, b.tolen, b.spinning())
		return true
	}
	b.streamFn = func(fd uintptr) bool { // false: wait in the netpoller for room
		b.stampSend()
		b.wn, b.werrn = send(fd, b.wp, nil, 0, b.spinning())
		return b.werrn != unix.EAGAIN
	}
	return b, true
}

// read runs one receive (fn) with p and oob, blocking unless busy.
//
// The receive is a raw system call (the runtime is not told, and the
// goroutine keeps its P) when it spins, and when it blocks while raw reads
// are allowed (SetRawWhile) and fewer than GOMAXPROCS-1 other Blocking reads
// are in one: an ordinary blocking call that lasts over 20 µs has the
// runtime's monitor take its P away and start another thread to keep polling,
// and the call's return take a P back, a few thread wake-ups per message
// more. A raw call that blocks ends when the runtime needs the goroutine
// (its preemption signal interrupts the call: EINTR), and at the latest after
// PollInterval.
func (b *Blocking) read(fn func(uintptr) bool, p, oob []byte) error {
	b.p, b.oob, b.flags = p, oob, 0
	b.raw = false
	slot := false
	idle := b.netpolling()
	if idle {
		b.listen()
	} else {
		b.hush()
	}
	switch {
	case idle:
		// One non-blocking try; on nothing, RawConn.Read parks the
		// goroutine in the netpoller until the socket is readable.
		b.flags = unix.MSG_DONTWAIT
		b.raw = true
		b.spun, fn = fn, b.pollFn
	case b.spinning():
		// Up to clockEvery tries in one callback: RawConn.Read's locking
		// of the descriptor, once a try, made an empty try 22% dearer
		// (581 ns against recvfrom's 476 on the VM we measure on).
		b.flags = unix.MSG_DONTWAIT
		b.raw = true
		b.spun, fn = fn, b.spinFn
	case b.rawOK == nil || b.rawOK():
		if rawSlots.Add(1) < b.procs {
			b.raw, slot = true, true
			b.raws.Add(1)
		} else {
			rawSlots.Add(-1)
		}
	}
	before := b.tries.Add(1) - 1
	err := b.rc.Read(fn)
	if slot {
		rawSlots.Add(-1)
	}
	if b.raw && !idle { // the idle try parks in the netpoller, which tells the runtime
		b.tellRuntime(b.tries.Load()-before, slot && b.errn == unix.EAGAIN)
	}
	b.p, b.oob, b.spun = nil, nil, nil
	return err
}

// SetNetpollWhile makes a read wait in Go's netpoller, as the net.Conn's
// own reads do, while idle() holds and the read has no deadline of b's
// (SetReadDeadline: the net.Conn's own deadline still applies): for a
// socket that expects no traffic for a while, such as a server's between
// sessions. An ordinary blocking call that waits long while the process's
// other Ps are busy has the runtime's monitor take its P, and then poll
// every 20 µs for the next milliseconds; every PollInterval, when the call
// times out and is made again (on a 2-CPU machine, ~1,200 wake-ups a second,
// each taking a CPU from whatever runs there: another session's spinning
// reads). It is asked before every read.
func (b *Blocking) SetNetpollWhile(idle func() bool) { b.idle = idle }

func (b *Blocking) netpolling() bool {
	return b.idle != nil && b.at.IsZero() && b.hasReg && b.idle()
}

// listen tells the netpoller to watch the socket for reads again (for
// SetNetpollWhile); hush, before a read of b's own, tells it to ignore them.
func (b *Blocking) listen() {
	// The reads' interest back; a datagram socket's writes stay ignored
	// (b sends them).
	reads := b.reg.events & (unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLPRI)
	if b.quiet && b.reg.modify(quietEvents(b.reg.events, b.stream)|reads) == nil {
		b.quiet = false
	}
}

func (b *Blocking) hush() {
	if b.hasReg && !b.quiet && b.reg.modify(quietEvents(b.reg.events, b.stream)) == nil {
		b.quiet = true
	}
}

// SetStamps makes b note the time just after each receive that returns
// data and just before the system call of each send (the first of a
// stream's Write), for Stamped: a ping-pong's round trip then spans its
// system calls alone, as sockperf's does, and not the Go code around them
// (the runtime's descriptor locking, framing, checks: 0.3-0.7 µs a round
// trip on the VM we measure on). Off by default: a clock read per message
// is a cost a throughput test does not need.
func (b *Blocking) SetStamps(on bool) { b.stamps = on }

// stampsAt is when the last send began and the last receive returned data
// (zero until then, or without SetStamps).
func (b *Blocking) stampsAt() (sent, read time.Time) { return b.sentAt, b.readAt }

func (b *Blocking) stampRead() {
	if b.stamps && b.errn == 0 {
		b.readAt = time.Now()
	}
}

func (b *Blocking) stampSend() {
	if b.stamps && !b.sendStamped {
		b.sentAt, b.sendStamped = time.Now(), true
	}
}

// SetRawWhile lets blocking reads be raw system calls (see read) only while
// ok holds; by default they may always be. A raw read holds one of the
// runtime's Ps while it sleeps in the kernel, so a socket read for a long
// time with nothing to read (a server's) allows it only while it expects
// traffic.
func (b *Blocking) SetRawWhile(ok func() bool) { b.rawOK = ok }

// SetBusy makes reads spin (non-blocking receives in a loop, as sockperf's
// busy mode) instead of sleeping in the kernel: lower latency for a core's
// worth of CPU while a read waits.
func (b *Blocking) SetBusy(on bool) { b.SetBusyWhile(func() bool { return on }) }

// SetBusyWhile makes reads spin while busy() holds and sleep in the kernel
// otherwise; it is asked again every clockEvery tries of a spinning read (so
// a wait that is spinning stops spinning once busy() turns false) and at
// least every PollInterval while one sleeps.
func (b *Blocking) SetBusyWhile(busy func() bool) { b.busy = busy }

func (b *Blocking) spinning() bool { return b.busy != nil && b.busy() }

// Wait names how b's reads wait now: WaitBlocking or WaitBusyPoll.
func (b *Blocking) Wait() string {
	if b.spinning() {
		return WaitBusyPoll
	}
	return WaitBlocking
}

// Release puts the socket back into non-blocking mode and the netpoller's
// sight. Call it once no read or send through b is in progress.
func (b *Blocking) Release() {
	b.restore()
}

// restore restores the socket's non-blocking mode and its registration with
// the netpoller, and clears its timeouts. A socket already closed is left
// alone (Control fails): its registration went with it.
func (b *Blocking) restore() {
	_ = b.rc.Control(func(fd uintptr) {
		if b.hasReg { // quiet, or listening without a datagram socket's writes
			_ = b.reg.modify(b.reg.events)
			b.quiet = false
		}
		_ = unix.SetNonblock(int(fd), true)
		_ = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{})
		_ = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_SNDTIMEO, &unix.Timeval{})
	})
}

// Interrupt wakes a goroutine blocked in a Blocking read of c for good (it
// shuts c's receive side down): call it just before closing c, so the close
// does not wait out PollInterval. Other connections are left alone.
func Interrupt(c any) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	if rc, err := sc.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RD) })
	}
}

// receive runs fn (a receive into p and oob) until it brings something: nil
// with b.n (and b.oobn, b.from) set, os.ErrDeadlineExceeded once the deadline
// has passed (see late), the net.Conn's own error (closed, or its deadline
// set to expire: the usual way to cancel a read), or the receive's error.
func (b *Blocking) receive(fn func(uintptr) bool, p, oob []byte) error {
	for {
		if err := b.read(fn, p, oob); err != nil {
			return b.pollError(err)
		}
		switch errn := b.errn; {
		case errn == 0:
			return nil
		case errn == unix.EAGAIN || errn == unix.EINTR:
			if b.late() {
				return os.ErrDeadlineExceeded
			}
		default:
			return b.opError(errn)
		}
	}
}

// Read reads into p like the net.Conn's Read: io.EOF at a stream's end, and
// os.ErrDeadlineExceeded once the deadline has passed or the net.Conn's own
// read deadline is set to expire (the usual way to cancel a read).
func (b *Blocking) Read(p []byte) (int, error) {
	if err := b.receive(b.recvFn, p, nil); err != nil {
		return 0, err
	}
	if b.n == 0 && b.stream && len(p) > 0 {
		return 0, io.EOF
	}
	return b.n, nil
}

// ReadMsgUDP reads one datagram (or, with UDP GRO, one run of them) and its
// control message, like (*net.UDPConn).ReadMsgUDPAddrPort, allocating nothing.
func (b *Blocking) ReadMsgUDP(p, oob []byte) (n, oobn int, src netip.AddrPort, err error) {
	if err := b.receive(b.msgFn, p, oob); err != nil {
		return 0, 0, netip.AddrPort{}, err
	}
	return b.n, b.oobn, sockaddrPort(&b.from, &b.fromZone), nil
}

// ReadFromUDP reads one datagram and its source, like
// (*net.UDPConn).ReadFromUDPAddrPort, allocating nothing: recvfrom(2), which
// unlike ReadMsgUDP's recvmsg(2) has no message header and vector to copy in
// (on the VM we measure on, an empty try 480 ns against 850).
func (b *Blocking) ReadFromUDP(p []byte) (n int, src netip.AddrPort, err error) {
	if err := b.receive(b.fromFn, p, nil); err != nil {
		return 0, netip.AddrPort{}, err
	}
	return b.n, sockaddrPort(&b.from, &b.fromZone), nil
}

// clockEvery is how many empty tries a spinning read makes between looks
// at the clock for its deadline and at whether it should still spin
// (SetBusyWhile): a clock read costs a third of an empty receive on a
// virtual machine (170 ns against 480), and every try's cost is time a
// message waits to be seen. A deadline is then seen a few µs late at most.
const clockEvery = 16

// late reports, after a try found nothing, whether the read's deadline
// has passed (see clockEvery); without a deadline it reads no clock.
func (b *Blocking) late() bool {
	if b.at.IsZero() {
		return false
	}
	return b.expired(time.Now()) // a spinning read's tries come clockEvery at a time (see read)
}

func (b *Blocking) opError(errn error) error {
	proto := "udp"
	if b.stream {
		proto = "tcp"
	}
	return &net.OpError{Op: "read", Net: proto, Err: os.NewSyscallError("recv", errn)}
}

// syscall6 makes a read's system call, raw or not (see read).
func (b *Blocking) syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, syscall.Errno) {
	if b.raw {
		return unix.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
	}
	return unix.Syscall6(trap, a1, a2, a3, a4, a5, a6)
}

// recv is recvfrom(2), with the source address into b.from if from.
func (b *Blocking) recv(fd uintptr, p []byte, flags int, from bool) (int, syscall.Errno) {
	var base, sa, salen unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	if from {
		b.from.Addr.Family = 0
		b.fromLen = uint32(unsafe.Sizeof(b.from))
		sa, salen = unsafe.Pointer(&b.from), unsafe.Pointer(&b.fromLen)
	}
	r, _, e := b.syscall6(unix.SYS_RECVFROM, fd, uintptr(base), uintptr(len(p)), uintptr(flags), uintptr(sa), uintptr(salen))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

func (b *Blocking) recvmsg(fd uintptr, p, oob []byte, flags int) (int, int, syscall.Errno) {
	b.from = unix.RawSockaddrAny{}
	b.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&b.from)), Namelen: uint32(unsafe.Sizeof(b.from))}
	if len(p) > 0 {
		b.iov.Base = &p[0]
		b.iov.SetLen(len(p))
		b.msg.Iov = &b.iov
		b.msg.Iovlen = 1
	}
	if len(oob) > 0 {
		b.msg.Control = &oob[0]
		b.msg.SetControllen(len(oob))
	}
	r, _, e := b.syscall6(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&b.msg)), uintptr(flags), 0, 0, 0)
	if e != 0 {
		return 0, 0, e
	}
	return int(r), int(b.msg.Controllen), 0
}

// Write sends p through the socket while b is in use. A datagram is sent by
// one send(2) (on a connected socket; see send: at once if there is room,
// else blocking), which fails with EAGAIN when its buffer stays full for
// PollInterval: the datagram is dropped, as a full queue drops one. A stream
// waits for room through the netpoller, as the net.Conn's Write does, and
// honours its write deadline.
func (b *Blocking) Write(p []byte) (int, error) {
	b.tolen = 0
	b.sendStamped = false
	if !b.stream {
		return b.sendDatagram(p)
	}
	done := 0
	for done < len(p) {
		b.wp = p[done:]
		err := b.rc.Write(b.streamFn)
		b.wp = nil
		if err != nil {
			return done, err
		}
		if b.werrn != 0 && b.werrn != unix.EINTR {
			return done, b.writeError(b.werrn)
		}
		done += b.wn
	}
	return done, nil
}

// WriteToUDPAddrPort sends the datagram p to to (an IPv4 address as is or
// IPv4-mapped), like (*net.UDPConn).WriteToUDPAddrPort, while b is in use;
// a full buffer drops it as Write does.
func (b *Blocking) WriteToUDPAddrPort(p []byte, to netip.AddrPort) (int, error) {
	if b.stream {
		return 0, b.writeError(unix.EISCONN)
	}
	b.to = unix.RawSockaddrAny{}
	nport := ntohs(to.Port()) // the same swap turns host order to network order
	switch a := to.Addr(); {
	case b.inet6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&b.to))
		sa.Family, sa.Port, sa.Addr = unix.AF_INET6, nport, a.As16()
		sa.Scope_id = b.toZone.scope(a.Zone())
		b.tolen = unix.SizeofSockaddrInet6
	case a.Unmap().Is4():
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.to))
		sa.Family, sa.Port, sa.Addr = unix.AF_INET, nport, a.Unmap().As4()
		b.tolen = unix.SizeofSockaddrInet4
	default:
		return 0, b.writeError(unix.EAFNOSUPPORT)
	}
	return b.sendDatagram(p)
}

// sendDatagram sends p, to b.to when b.tolen > 0. A blocking send that a
// signal interrupts (the runtime's preemption, while the buffer is full) is
// made again.
func (b *Blocking) sendDatagram(p []byte) (int, error) {
	b.wp = p
	b.sendStamped = false
	err := b.rc.Write(b.sendFn)
	for err == nil && b.werrn == unix.EINTR {
		err = b.rc.Write(b.sendFn)
	}
	b.wp = nil
	switch {
	case err != nil:
		return 0, err
	case b.werrn != 0:
		return 0, b.writeError(b.werrn)
	}
	return b.wn, nil
}

func (b *Blocking) writeError(errn syscall.Errno) error {
	proto := "udp"
	if b.stream {
		proto = "tcp"
	}
	return &net.OpError{Op: "write", Net: proto, Err: os.NewSyscallError("sendto", errn)}
}

// send is sendto(2), to an address when tolen > 0. It is tried first as a
// raw system call that does not wait (MSG_DONTWAIT): a send that finds room,
// nearly every one, keeps the goroutine's P, where an ordinary call that
// lasts over 20 µs (a loopback send carries the message up the receiver's
// stack and wakes it) has the runtime's monitor retake the P, and keeps the
// monitor polling every 20 µs (2,000 wake-ups a second in a round-trip test,
// against 100). Only when the buffer is full does it wait, blocking in the
// kernel up to PollInterval (raw while the Blocking spins: its goroutine
// keeps its P throughout anyway).
func send(fd uintptr, p []byte, to *unix.RawSockaddrAny, tolen uintptr, spinning bool) (int, syscall.Errno) {
	var base, sa unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	if tolen > 0 {
		sa = unsafe.Pointer(to)
	}
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(base), uintptr(len(p)), unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, uintptr(sa), tolen)
	if e == unix.EAGAIN {
		sc := unix.Syscall6
		if spinning {
			sc = unix.RawSyscall6
		}
		r, _, e = sc(unix.SYS_SENDTO, fd, uintptr(base), uintptr(len(p)), unix.MSG_NOSIGNAL, uintptr(sa), tolen)
	}
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}
