package udp

import (
	"time"

	"github.com/netduel/netduel/internal/clock"
)

// pacer spreads sends evenly at a bit rate. Its budget grows continuously from
// the clock (rate × time since the start), so a sender that falls behind (a
// sleep that woke late, a slow write, a stall) is owed what it missed and makes
// it up: the rate over the run is the rate asked for. Catching up is itself
// paced, at catchUp times the rate, in bursts of at most maxBurst (about 100 µs
// of traffic, at least one datagram), so there is never a once-per-second or
// once-per-millisecond burst, and a stall is not followed by a flood. A debt
// older than maxDebt is written off.
type pacer struct {
	rate     float64 // bytes per second; 0 = unpaced
	start    time.Time
	sent     float64 // bytes released so far
	maxBurst float64 // bytes released at once at most
	maxDebt  float64 // bytes the sender may be behind and still make up

	tokens float64   // the burst limiter: refilled at catchUp × rate, at most maxBurst
	last   time.Time // when tokens were last refilled

	now   func() time.Time    // the clock; tests replace it
	sleep func(time.Duration) // and the sleep
	done  func() bool         // the sender was stopped (nil: never)
}

const (
	// burstWindow is how much traffic the pacer may release at once.
	burstWindow = 100 * time.Microsecond
	// catchUp is how much faster than the rate a sender that fell behind sends.
	catchUp = 2
	// debtWindow is how far behind a sender may fall and still make it up.
	debtWindow = 500 * time.Millisecond
	// A wait over sleepAbove sleeps until wakeEarly before it is over.
	sleepAbove = 30 * time.Microsecond
	wakeEarly  = 10 * time.Microsecond
	// maxNap is the longest one sleep: a wait for the next datagram at a
	// low rate (a second or more at --bitrate 1k) looks at the test's end
	// and at whether the sender was stopped at least this often.
	maxNap = 10 * time.Millisecond
)

func newPacer(bitsPerSec float64, frameLen int, start time.Time) *pacer {
	p := &pacer{rate: bitsPerSec / 8, start: start, last: start, now: time.Now, sleep: clock.Sleep}
	p.maxBurst = max(p.rate*burstWindow.Seconds(), float64(frameLen))
	p.maxDebt = max(p.rate*debtWindow.Seconds(), p.maxBurst)
	p.tokens = p.maxBurst
	return p
}

// wait blocks until n more bytes may be sent, or until end or done. It
// reports whether sending may go on.
func (p *pacer) wait(n int, end time.Time) bool {
	if p.rate <= 0 {
		return true
	}
	need := min(float64(n), p.maxBurst)
	for {
		now := p.now()
		if !now.Before(end) || p.done != nil && p.done() {
			return false
		}
		// The bucket starts full: the first burst goes at once.
		allowed := now.Sub(p.start).Seconds()*p.rate + p.maxBurst
		if allowed-p.sent > p.maxDebt {
			p.sent = allowed - p.maxDebt
		}
		if dt := now.Sub(p.last).Seconds(); dt > 0 {
			p.tokens = min(p.maxBurst, p.tokens+dt*catchUp*p.rate)
			p.last = now
		}
		if p.sent+float64(n) <= allowed && p.tokens >= need {
			p.sent += float64(n)
			p.tokens -= need
			return true
		}
		// Sleep only while ahead of the budget: a sender catching up waits
		// for the burst limiter's tokens spinning, so that a sleep's late
		// wake-up never slows the catching up itself.
		ahead := (p.sent + float64(n) - allowed) / p.rate
		if d := time.Duration(ahead * float64(time.Second)); d > sleepAbove {
			// Sleep nearly all the way (a high-resolution sleep on a thread
			// with a 1 µs timer slack, see SendThroughput: Go's timers wake
			// up to a millisecond late) and spin the rest. A sleep that
			// wakes late is made up by the budget, so the CPU a paced sender
			// burns is its writes, not a spin through every gap.
			p.sleep(min(d-wakeEarly, end.Sub(now), maxNap))
		}
		// Otherwise spin: a wait this short is over before a sleep would be.
	}
}
