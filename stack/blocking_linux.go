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

// Blocking reads one OS socket in the kernel's blocking mode from one
// goroutine, locked to its thread (see the package's notes above
// PollInterval). While it is in use the socket's descriptor is in blocking
// mode, so the net.Conn's own reads would block their thread too: read only
// through the Blocking until Release. Writes through the net.Conn work as
// before, write deadlines included (see NewBlocking). Not safe for
// concurrent use.
type Blocking struct {
	blockingDeadline
	rc     syscall.RawConn
	stream bool
	busy   func() bool   // nil: never
	tries  atomic.Uint64 // receive calls made (tests watch it)

	// A read's arguments and results, and the callbacks that take them
	// (made once: a closure made per read would escape, and allocate).
	p, oob        []byte
	flags         int
	n, oobn       int
	errn          syscall.Errno
	recvFn, msgFn func(fd uintptr) bool
	msg           unix.Msghdr
	iov           unix.Iovec
	from          unix.RawSockaddrAny
}

// NewBlocking puts c (a *net.UDPConn or *net.TCPConn) into blocking mode for
// the calling goroutine and locks the goroutine to its thread until Release.
// It reports false, and changes nothing, for any other connection.
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
	if err := rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); serr == nil {
			serr = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
		}
		if serr == nil {
			serr = unix.SetNonblock(int(fd), false)
		}
	}); err != nil || serr != nil {
		restoreNonblock(rc)
		return nil, false
	}
	runtime.LockOSThread()
	b := &Blocking{rc: rc, stream: stream}
	b.recvFn = func(fd uintptr) bool {
		b.n, b.errn = recv(fd, b.p, b.flags)
		return true
	}
	b.msgFn = func(fd uintptr) bool {
		b.n, b.oobn, b.errn = b.recvmsg(fd, b.p, b.oob, b.flags)
		return true
	}
	return b, true
}

// read runs one receive (fn) with p and oob, blocking unless busy.
func (b *Blocking) read(fn func(uintptr) bool, p, oob []byte) error {
	b.p, b.oob, b.flags = p, oob, 0
	if b.spinning() {
		b.flags = unix.MSG_DONTWAIT
	}
	b.tries.Add(1)
	err := b.rc.Read(fn)
	b.p, b.oob = nil, nil
	return err
}

// SetBusy makes reads spin (non-blocking receives in a loop, as sockperf's
// busy mode) instead of sleeping in the kernel: lower latency for a core's
// worth of CPU while a read waits.
func (b *Blocking) SetBusy(on bool) { b.SetBusyWhile(func() bool { return on }) }

// SetBusyWhile makes reads spin while busy() holds and sleep in the kernel
// otherwise; it is asked again at every try of a read (so a wait that is
// spinning stops spinning once busy() turns false) and at least every
// PollInterval while one sleeps.
func (b *Blocking) SetBusyWhile(busy func() bool) { b.busy = busy }

func (b *Blocking) spinning() bool { return b.busy != nil && b.busy() }

// Wait names how b's reads wait now: WaitBlocking or WaitBusyPoll.
func (b *Blocking) Wait() string {
	if b.spinning() {
		return WaitBusyPoll
	}
	return WaitBlocking
}

// Release puts the socket back into non-blocking mode for the netpoller and
// unlocks the goroutine from its thread. Call it from the goroutine that
// called NewBlocking.
func (b *Blocking) Release() {
	restoreNonblock(b.rc)
	runtime.UnlockOSThread()
}

// restoreNonblock restores a socket's non-blocking mode and clears its timeouts.
func restoreNonblock(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
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

// Read reads into p like the net.Conn's Read: io.EOF at a stream's end, and
// os.ErrDeadlineExceeded once the deadline has passed or the net.Conn's own
// read deadline is set to expire (the usual way to cancel a read).
func (b *Blocking) Read(p []byte) (int, error) {
	for {
		if err := b.read(b.recvFn, p, nil); err != nil {
			return 0, err // closed, or the net.Conn's deadline
		}
		switch n, errn := b.n, b.errn; {
		case errn == 0 && n == 0 && b.stream && len(p) > 0:
			return 0, io.EOF
		case errn == 0:
			return n, nil
		case errn == unix.EAGAIN || errn == unix.EINTR:
			if b.expired(time.Now()) {
				return 0, os.ErrDeadlineExceeded
			}
		default:
			return 0, b.opError(errn)
		}
	}
}

// ReadMsgUDP reads one datagram (or, with UDP GRO, one run of them) and its
// control message, like (*net.UDPConn).ReadMsgUDPAddrPort, allocating nothing.
func (b *Blocking) ReadMsgUDP(p, oob []byte) (n, oobn int, src netip.AddrPort, err error) {
	for {
		if err := b.read(b.msgFn, p, oob); err != nil {
			return 0, 0, netip.AddrPort{}, err
		}
		switch errn := b.errn; {
		case errn == 0:
			return b.n, b.oobn, sockaddrPort(&b.from), nil
		case errn == unix.EAGAIN || errn == unix.EINTR:
			if b.expired(time.Now()) {
				return 0, 0, netip.AddrPort{}, os.ErrDeadlineExceeded
			}
		default:
			return 0, 0, netip.AddrPort{}, b.opError(errn)
		}
	}
}

func (b *Blocking) opError(errn syscall.Errno) error {
	proto := "udp"
	if b.stream {
		proto = "tcp"
	}
	return &net.OpError{Op: "read", Net: proto, Err: os.NewSyscallError("recv", errn)}
}

// recv is recvfrom(2) without the source address.
func recv(fd uintptr, p []byte, flags int) (int, syscall.Errno) {
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(base), uintptr(len(p)), uintptr(flags), 0, 0)
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
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&b.msg)), uintptr(flags))
	if e != 0 {
		return 0, 0, e
	}
	return int(r), int(b.msg.Controllen), 0
}

// sockaddrPort converts a received source address, IPv4-mapped addresses as
// the kernel gives them (the caller unmaps).
func sockaddrPort(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), ntohs(a.Port))
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), ntohs(a.Port))
	}
	return netip.AddrPort{}
}

func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
