package clock

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Precise pins the calling goroutine to its thread and lowers the thread's
// timer slack from the default 50 µs to 1 µs, so Sleep wakes on time.
// Call it only from a goroutine of its own, which ends by returning: the
// thread then exits with it, taking its timer slack along.
func Precise() {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
}

// Hold is Precise for a while: it pins the calling goroutine to its thread
// with a 1 µs timer slack, and returns what restores the thread's slack and
// unpins the goroutine. Call both from the same goroutine.
func Hold() (release func()) {
	runtime.LockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
	return func() {
		if err == nil {
			_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
		}
		runtime.UnlockOSThread()
	}
}

// Sleep sleeps d with the kernel's high-resolution timer (nanosleep):
// tens of microseconds late at most, where Go's timers round to a millisecond.
func Sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
