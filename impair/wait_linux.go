package impair

import (
	"encoding/binary"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netduel/netduel/internal/rawsys"
)

// waiter is the delivering thread's wait on Linux: ppoll(2) on an eventfd, with
// the next departure as a nanosecond timeout (the thread's timer slack lowered
// to 1 µs), so one system call sleeps until either the next departure or a
// packet that must leave earlier. No Go timer or channel is involved: Go's
// timers wake up to a millisecond late, and a channel's wake-up waits for the
// scheduler. The wait is a raw system call (see internal/rawsys).
type waiter struct {
	fd   int // eventfd; -1: unavailable, fall back to the portable wait
	port *portableWaiter
}

func newWaiter() *waiter {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return &waiter{fd: -1, port: newPortableWaiter()}
	}
	return &waiter{fd: fd}
}

// wake interrupts a wait (from any goroutine).
func (w *waiter) wake() {
	if w.fd < 0 {
		w.port.wake()
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(w.fd, one[:])
}

// wait sleeps until d has passed (d < 0: until woken) or wake is called.
func (w *waiter) wait(d time.Duration) {
	if w.fd < 0 {
		w.port.wait(d)
		return
	}
	fds := [1]unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	if n, _ := rawsys.Ppoll(fds[:], int64(d)); n > 0 {
		var buf [8]byte
		_, _ = rawsys.Read(w.fd, buf[:]) // reset the counter
	}
}

// close releases the eventfd; no wait may be in progress or follow.
func (w *waiter) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// Realtime makes the calling goroutine's thread one of the link's own (a
// pipe's delivery, a backend's reader); see precise.
func Realtime() { precise() }

// precise makes the calling goroutine's thread the delivery thread: locked to
// the goroutine (which ends by returning, taking the thread along), timer
// slack 1 µs, and, where the process may (root, CAP_SYS_NICE), the lowest
// real-time priority (SCHED_FIFO 1), so a busy machine's other threads do not
// delay departures by a scheduler's time slice. It mostly sleeps; Linux's
// real-time throttling (95% of each second by default) bounds it anyway.
func precise() {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
	_ = unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1}, 0)
}

// spareProcs keeps extra Ps (GOMAXPROCS) while pipes deliver: a delivering
// thread returning from its wait must find an idle P at once, not wait for a
// busy goroutine's time slice (up to 10 ms, the stalls this prevents).
var spareProcs struct {
	sync.Mutex
	n, base int
}

func addSpareProcs()     { SpareProcs(1) }
func releaseSpareProcs() { SpareProcs(-1) }

// SpareProcs adds n (or, negative, removes -n) spare Ps for threads of the
// link that wait in system calls (readers, delivery): GOMAXPROCS is the
// process's own value plus the spares held.
func SpareProcs(n int) {
	spareProcs.Lock()
	defer spareProcs.Unlock()
	if spareProcs.n == 0 {
		spareProcs.base = runtime.GOMAXPROCS(0)
	}
	spareProcs.n += n
	runtime.GOMAXPROCS(spareProcs.base + spareProcs.n)
}

// Yield lets the other threads runnable on the calling thread's CPU run
// first (sched_yield(2), raw: see internal/rawsys).
func Yield() { rawsys.Yield() }
