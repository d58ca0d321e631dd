package link

import (
	"os"
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// The delay line's timing (see line).
const (
	// readBatch is how many packets the line reads before it delivers
	// again, so that a flood arriving does not hold up departures.
	readBatch = 64
	// spinWindow and spinShare bound the line's spinning: at most spinShare
	// of each spinWindow, so a busy link's real-time thread leaves its CPU
	// to others (and Linux's real-time throttling, 50 ms of every second
	// for a thread that never sleeps, never stalls it).
	spinWindow = 10 * time.Millisecond
	spinShare  = 2
)

// spinMargin is how long before a departure the line stops sleeping and
// spins (see line). TODO: chosen by measurement.
var spinMargin = 50 * time.Microsecond

func init() {
	if v, err := time.ParseDuration(os.Getenv("ND_SPIN")); err == nil {
		spinMargin = v
	}
}

// line is an impaired direction's delay line: one real-time thread (see
// impair.Realtime) that reads the device and delivers the direction's
// driven pipe, so a packet costs one wake-up of one thread, not a reader's
// and then a delivery thread's. It blocks in ppoll(2) on the device until a
// packet comes or, with packets held, until spinMargin before the next
// departure; on waking it reads every packet waiting (readBatch at a time),
// hands them to the pipe and delivers every packet due. Through the last
// spinMargin before a departure it does not sleep but polls the device
// without blocking and delivers on time: a timer wake-up is 10-20 µs late at
// the median on a virtual machine (tens of µs at p99), where spinning is on
// time to a µs. It never spins with nothing due within spinMargin, and at
// most 1/spinShare of its time.
func (f *tunForwarder) line(r *stack.TUNReader, d *direction) {
	defer f.rt.Done()
	impair.Realtime() // the thread ends with the goroutine
	impair.SpareProcs(1)
	defer impair.SpareProcs(-1)
	var spin spinBudget
	for {
		for range readBatch {
			n, ok, err := r.TryRead(d.buffer())
			if err != nil {
				return
			}
			if !ok {
				break
			}
			d.got(n)
		}
		wait, held := d.into.Deliver()
		var err error
		switch {
		case !held:
			spin.stop()
			err = r.Wait(-1)
		case wait > spinMargin:
			spin.stop()
			err = r.Wait(wait - spinMargin)
		case !spin.more():
			spin.stop()
			err = r.Wait(wait)
		}
		// Else due within the margin: read and deliver again at once.
		if err != nil {
			return
		}
	}
}

// spinBudget keeps the line's spinning within spinShare of each spinWindow.
type spinBudget struct {
	since  time.Time     // the spin under way began (zero: none)
	window time.Time     // the current window began
	spent  time.Duration // spun in the current window, before since
}

// more says whether the line may (go on) spin(ning), and counts it.
func (b *spinBudget) more() bool {
	now := time.Now()
	if b.since.IsZero() {
		b.since = now
	}
	if now.Sub(b.window) >= spinWindow {
		b.window, b.spent, b.since = now, 0, now
	}
	return b.spent+now.Sub(b.since) < spinWindow/spinShare
}

// stop ends a spin.
func (b *spinBudget) stop() {
	if !b.since.IsZero() {
		b.spent += time.Since(b.since)
		b.since = time.Time{}
	}
}
