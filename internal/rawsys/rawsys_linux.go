// Package rawsys has the few system calls the emulated link's real-time
// threads make, as raw system calls (syscall.RawSyscall): to the runtime
// the calling goroutine stays running while it is in the kernel, so no
// other thread takes hold of it there.
//
// With ordinary system calls, the runtime's monitor (every 10 ms, to take
// back the goroutine's P) and the garbage collector (to scan its stack) mark
// a goroutine in a system call as theirs for a moment. A real-time thread
// returning from the call then spins until that ordinary thread lets go,
// which it cannot while the real-time thread spins on its CPU: with the
// process on one CPU (taskset -c 0) a delay line stalled for 940-960 ms,
// until Linux's real-time throttling (950 ms of every second) stopped the
// spin, in 2-4 of every 6 runs; none in 12 with raw calls. On two busy CPUs
// the same inversion lasts until the ordinary thread gets a CPU:
// milliseconds. A raw call that blocks still ends when the runtime needs
// the goroutine (to preempt it, or to stop the world): its signal
// interrupts the call (EINTR).
//
// Use them only for calls that return promptly or can be interrupted
// (non-blocking reads and writes, ppoll).
package rawsys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read is read(2).
func Read(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(p), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Write is write(2) of a, then b (writev(2); either may be empty).
func Write(fd int, a, b []byte) (int, error) {
	iov := [2]unix.Iovec{}
	n := 0
	for _, s := range [2][]byte{a, b} {
		if len(s) > 0 {
			iov[n].Base = &s[0]
			iov[n].SetLen(len(s))
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	w, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	if e != 0 {
		return 0, e
	}
	return int(w), nil
}

// Ppoll is ppoll(2) without a signal mask: it waits until one of fds is
// ready or d has passed (d < 0: without a limit) and returns how many are
// ready.
func Ppoll(fds []unix.PollFd, d int64) (int, error) {
	var ts *unix.Timespec
	if d >= 0 {
		t := unix.NsecToTimespec(d)
		ts = &t
	}
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Recv is recvfrom(2) without a peer address.
func Recv(fd int, b []byte, flags int) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Sleep is clock_nanosleep(2) on the monotonic clock for d ns, again until
// done when interrupted.
func Sleep(d int64) {
	ts := unix.NsecToTimespec(d)
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, 0, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		if e != unix.EINTR {
			return
		}
	}
}

// Yield is sched_yield(2): other threads runnable on this CPU run first.
func Yield() { _, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
