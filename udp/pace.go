package udp

import (
	"time"

	"github.com/netduel/netduel/internal/clock"
)

// pacer spreads sends evenly at a bit rate: a token bucket refilled continuously
// from the clock, with a burst of at most maxBurst (about 100 µs of traffic, at
// least one datagram), so there is no once-per-second or once-per-millisecond burst.
type pacer struct {
	rate     float64 // bytes per second; 0 = unpaced
	start    time.Time
	sent     float64 // bytes released so far
	maxBurst float64 // bytes the bucket may hold

	now   func() time.Time    // the clock; tests replace it
	sleep func(time.Duration) // and the sleep
}

// burstWindow is how much traffic the bucket may release at once.
const burstWindow = 100 * time.Microsecond

func newPacer(bitsPerSec float64, frameLen int, start time.Time) *pacer {
	p := &pacer{rate: bitsPerSec / 8, start: start, now: time.Now, sleep: clock.Sleep}
	p.maxBurst = max(p.rate*burstWindow.Seconds(), float64(frameLen))
	return p
}

// wait blocks until n more bytes may be sent, or until end. It reports whether
// sending may go on.
func (p *pacer) wait(n int, end time.Time) bool {
	if p.rate <= 0 {
		return true
	}
	for {
		now := p.now()
		if !now.Before(end) {
			return false
		}
		allowed := now.Sub(p.start).Seconds() * p.rate
		if p.sent+float64(n) <= allowed {
			// Never let an idle spell bank more than one burst.
			if allowed-p.sent > p.maxBurst {
				p.sent = allowed - p.maxBurst
			}
			p.sent += float64(n)
			return true
		}
		due := time.Duration((p.sent + float64(n) - allowed) / p.rate * float64(time.Second))
		if due > 200*time.Microsecond {
			// Sleep most of the way (a high-resolution sleep: Go's timers
			// wake up to a millisecond late), and spin the rest.
			p.sleep(due - 150*time.Microsecond)
		}
		// Otherwise spin briefly: sub-sleep-granularity waits stay accurate.
	}
}
