package impair

import (
	"runtime"
	"time"

	"github.com/netduel/netduel/internal/clock"
)

// portableWaiter waits with what every OS has, in three ways, because Go's
// timers wake up to a millisecond late: a timer for waits longer than
// coarseAbove (set to wake coarseAbove early), short precise sleeps
// (clock.Sleep, at most sleepChunk each, so that a packet due earlier is seen
// soon) down to spinBelow, and yielding for the last stretch. A wake ends only
// the timer's wait.
type portableWaiter struct {
	ch    chan struct{}
	timer *time.Timer
}

const (
	coarseAbove = 2 * time.Millisecond
	sleepChunk  = 100 * time.Microsecond
	spinBelow   = 60 * time.Microsecond
)

func newPortableWaiter() *portableWaiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &portableWaiter{ch: make(chan struct{}, 1), timer: t}
}

func (w *portableWaiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

func (w *portableWaiter) wait(d time.Duration) {
	switch {
	case d < 0:
		<-w.ch
	case d <= spinBelow:
		runtime.Gosched()
	case d <= coarseAbove:
		clock.Sleep(min(d-spinBelow, sleepChunk))
	default:
		w.timer.Reset(d - coarseAbove + spinBelow)
		select {
		case <-w.timer.C:
		case <-w.ch:
			w.timer.Stop()
		}
	}
}
