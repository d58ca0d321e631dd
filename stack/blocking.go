package stack

import "time"

// A latency test waits for one small reply at a time. Through Go's netpoller
// each wait is a failed read, a park, an epoll_wait on a thread that may not be
// the one that runs the goroutine next, and a read again: on a fast link that
// costs more than the kernel's own round trip. Blocking gives one goroutine the
// receive path sockperf uses instead: it blocks in the kernel's recv(2)
// itself, one system call per message, on a socket the netpoller is told to
// ignore meanwhile (otherwise every arrival and every datagram sent also woke
// the thread parked in epoll_wait: two more thread wake-ups per round trip).
// Measured on loopback (64-byte UDP echo, two processes): p50 about 1.2x
// sockperf's through the netpoller, 1.0x blocking (bench/compare has the rows).
//
// A Blocking reader exists only for the operating system's own sockets
// (*net.UDPConn, *net.TCPConn) on Linux; NewBlocking reports false elsewhere
// (netstack's sockets, other systems), and callers keep the netpoller. It
// helps only between processes: with both ends in one process (an embedded
// run) the netpoller is faster (RTT p50 17-24 µs against 23-36 µs), and
// Receiver's callers ask for it there.

// PollInterval is how long a blocked receive sleeps in the kernel at most
// before it looks at its deadline and at the socket's state (closed, a
// deadline set through the net.Conn) again: what a cancelled or closed socket
// may take to be noticed where nobody calls Interrupt.
const PollInterval = 50 * time.Millisecond

// blockingDeadline is shared by every implementation: reads fail with
// os.ErrDeadlineExceeded once it has passed (zero: no deadline).
type blockingDeadline struct{ at time.Time }

func (d *blockingDeadline) SetReadDeadline(t time.Time) error {
	d.at = t
	return nil
}

func (d *blockingDeadline) expired(now time.Time) bool {
	return !d.at.IsZero() && !now.Before(d.at)
}

// How a test's reads wait for their data, as reports name it.
const (
	WaitNetpoller = "netpoller" // Go's netpoller (any socket, any system)
	WaitBlocking  = "blocking"  // blocked in recv(2), the netpoller told to ignore the socket (Blocking)
	WaitBusyPoll  = "busy-poll" // spinning on non-blocking recv(2) (Blocking.SetBusy)
)

// DeadlineReader is what a test reads its replies through: a net.Conn, or a
// Blocking over one.
type DeadlineReader interface {
	Read(p []byte) (int, error)
	SetReadDeadline(t time.Time) error
}

// Receiver returns what the calling goroutine should read c through, given
// how it wants to wait (want: WaitBlocking, which "" means too, WaitBusyPoll
// or WaitNetpoller): a Blocking where c allows it (see NewBlocking), spinning
// for WaitBusyPoll; c itself for WaitNetpoller or where c allows no
// Blocking. It returns how the reads will wait and the function to call when
// the goroutine is done reading.
//
// WaitNetpoller is the better choice when the peer runs in this same process
// (an embedded server): Go hands a message from one goroutine to the other
// faster than two threads blocked in the kernel wake each other.
func Receiver(c DeadlineReader, want string) (r DeadlineReader, wait string, release func()) {
	if want != WaitNetpoller {
		if b, ok := NewBlocking(c); ok {
			b.SetBusy(want == WaitBusyPoll)
			return b, b.Wait(), b.Release
		}
	}
	return c, WaitNetpoller, func() {}
}
