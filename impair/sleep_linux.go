package impair

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// preciseTimers pins the calling goroutine to its thread and lowers the thread's
// timer slack from the default 50 µs to 1 µs, so preciseSleep wakes on time.
// The thread exits with the goroutine.
func preciseTimers() {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
}

// preciseSleep sleeps d with the kernel's high-resolution timer (nanosleep):
// tens of microseconds late at most, where Go's timers round to a millisecond.
func preciseSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
