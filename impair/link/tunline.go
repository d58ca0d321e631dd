package link

import (
	"time"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/stack"
)

// The delay line's timing (see line).
const (
	// readBatch is how many wire packets the line reads before it
	// delivers again, so that a flood arriving does not hold up
	// departures: a read can be a super-packet of up to 44 (see cut), and
	// each costs about a µs to cut and impair (64 reads of them held the
	// packets due for 3 ms).
	readBatch = 64
	// spinWindow and spinShare bound the line's spinning: at most
	// 1/spinShare of each spinWindow, so a busy link's real-time thread
	// leaves its CPU to others (and Linux's real-time throttling, 50 ms of
	// every second for a thread that never sleeps, never stalls it).
	spinWindow = 10 * time.Millisecond
	spinShare  = 2
	// The spin margin (see margin) starts at startMargin (a virtual
	// machine's, where it settles in a few wake-ups) and stays within
	// minMargin and maxMargin.
	startMargin          = 20 * time.Microsecond
	minMargin, maxMargin = 5 * time.Microsecond, 100 * time.Microsecond
)

// line is an impaired direction's delay line: one real-time thread (see
// impair.Realtime) that reads the device and delivers the direction's
// driven pipe, so a packet costs one wake-up of one thread, not a reader's
// and then a delivery thread's. It blocks in ppoll(2) on the device until a
// packet comes or, with packets held, until a margin before the next
// departure; on waking it reads every packet waiting (readBatch at a time),
// hands them to the pipe and delivers every packet due. Through the margin
// it does not sleep but polls the device without blocking and delivers on
// time: a timer wake-up is 10-20 µs late at the median on a virtual machine
// (50 µs at p99), a spin on time to a µs. The margin is what it measured:
// the 95th percentile of its own timed wake-ups' lateness (see margin). It
// never spins with nothing due within the margin, and at most 1/spinShare
// of its time.
func (f *tunForwarder) line(r *stack.TUNReader, d *direction) {
	defer f.rt.Done()
	impair.Realtime() // the thread ends with the goroutine
	impair.SpareProcs(1)
	defer impair.SpareProcs(-1)
	var spin spinBudget
	m := newMargin()
	for {
		if _, err := d.readWaiting(r); err != nil {
			return
		}
		wait, held := d.deliver()
		var err error
		switch {
		case !held:
			spin.stop(time.Now())
			_, err = r.Wait(-1)
		case wait > m.d:
			t0 := time.Now()
			spin.stop(t0)
			sleep := wait - m.d
			var ready bool
			if ready, err = r.Wait(sleep); !ready {
				m.woke(time.Since(t0) - sleep)
			}
		case !spin.more(time.Now()):
			spin.stop(time.Now())
			_, err = r.Wait(wait)
		}
		// Else due within the margin: read and deliver again at once.
		if err != nil {
			return
		}
	}
}

// margin is how long before a departure the line stops sleeping and spins:
// an estimate of the 95th percentile of how late its timed waits wake up,
// kept by stochastic approximation (each wake-up later than the estimate
// raises it by 19 steps, each other lowers it by one: it settles where 5%
// are later), within minMargin and maxMargin.
type margin struct{ d time.Duration }

func newMargin() margin { return margin{startMargin} }

const marginStep = 250 * time.Nanosecond

// woke counts a timed wait that woke late by late.
func (m *margin) woke(late time.Duration) {
	if late > m.d {
		m.d += 19 * marginStep
	} else {
		m.d -= marginStep
	}
	m.d = min(max(m.d, minMargin), maxMargin)
}

// spinBudget keeps the line's spinning within 1/spinShare of each
// spinWindow.
type spinBudget struct {
	since  time.Time     // the spin under way began (zero: none)
	window time.Time     // the current window began
	spent  time.Duration // spun in the current window, before since
}

// more says whether the line may (go on) spin(ning) at now, and counts it.
func (b *spinBudget) more(now time.Time) bool {
	if b.since.IsZero() {
		b.since = now
	}
	if now.Sub(b.window) >= spinWindow {
		b.window, b.spent, b.since = now, 0, now
	}
	return b.spent+now.Sub(b.since) < spinWindow/spinShare
}

// stop ends a spin at now.
func (b *spinBudget) stop(now time.Time) {
	if !b.since.IsZero() {
		b.spent += now.Sub(b.since)
		b.since = time.Time{}
	}
}

// spin is a polling forwarder's one thread for both directions (ds[i] is
// device i's): it never sleeps, but reads each device without blocking
// (readBatch at a time) and delivers each direction's due packets, round and
// round, until the forwarder stops. A packet costs no wake-up of the link's:
// on a virtual machine an idle CPU's wake-up costs 15-100 µs, more the longer
// it idled (see BenchmarkDelayLine's idle- variants), which a blocking line
// adds to every packet that finds it asleep. The price is a CPU, all the
// time the link is open. The thread is an ordinary one: a real-time thread
// that never sleeps would be stopped by Linux's real-time throttling for
// 50 ms of every second.
func (f *tunForwarder) spin(ds [2]*direction) {
	defer f.rt.Done()
	impair.SpareProcs(1) // the spinner keeps its P: the others' stay free
	defer impair.SpareProcs(-1)
	for !f.stopping.Load() {
		idle := true
		for i, d := range ds {
			got, err := d.readWaiting(f.readers[i])
			if err != nil {
				return
			}
			idle = idle && !got
			d.deliver()
		}
		if idle {
			// A thread woken on this CPU (a program at either end of the
			// link) runs now, not once the scheduler's slice is up: without
			// it sockperf's round trip at 100 a second had a p99 of 1.3-2 ms.
			impair.Yield()
		}
	}
}

// readWaiting forwards the packets waiting at r, until readBatch wire packets
// came, and says whether there were any; an error is the device's end (or
// Stop).
func (d *direction) readWaiting(r *stack.TUNReader) (bool, error) {
	got := false
	for packets := 0; packets < readBatch; {
		n, ok, err := r.TryRead(d.buffer())
		if err != nil || !ok {
			return got, err
		}
		packets += max(1, d.got(n))
		got = true
	}
	return got, nil
}
