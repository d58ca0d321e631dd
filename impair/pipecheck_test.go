package impair

import (
	"math"
	"testing"
	"time"
)

// TestRateCheckOverRuns: the achieved rate is measured over runs of
// back-to-back copies at least minRateRun long, so that hand-overs a few µs
// late do not read as a slower link: bursts of four 66-byte ACKs at 30
// Mbit/s (21 µs each), every other hand-over 8 µs late, were measured at
// about 24 Mbit/s (the jittered link's return direction failing its check)
// and are now left out; a long run with the same lateness is measured at
// the configured rate.
func TestRateCheckOverRuns(t *testing.T) {
	t.Parallel()
	cfg := Config{Rate: 30e6, Delay: 25 * time.Millisecond, Jitter: 8 * time.Millisecond}
	for _, c := range []struct {
		name        string
		size, burst int
		wantJudged  bool
	}{
		{"ACK bursts", 66, 4, false},
		{"a queue of data packets", 1500, 200, true},
	} {
		ser := cfg.serialisation(c.size)
		c0 := pipeCheck{delay: newDelayHist()}
		now := time.Duration(0)
		for b := range 50 {
			// The copy the burst queued behind, then the burst: due every
			// ser, every other hand-over 8 µs late.
			now += 10 * time.Millisecond
			c0.delivered(cfg, now, pending{pkt: make([]byte, c.size), at: now - 25*time.Millisecond})
			due := now
			for i := range c.burst {
				due += ser
				late := time.Duration((i+b)%2) * 8 * time.Microsecond
				c0.delivered(cfg, due+late, pending{pkt: make([]byte, c.size), at: due - 25*time.Millisecond, spaced: ser})
			}
			now = due
		}
		// A copy not back to back ends the last run.
		c0.delivered(cfg, now+10*time.Millisecond, pending{pkt: make([]byte, c.size), at: now})
		judged := c0.rateN >= minRateN
		if judged != c.wantJudged {
			t.Errorf("%s: %d copies judged (%v), want judged %v", c.name, c0.rateN, c0.gaps, c.wantJudged)
			continue
		}
		if judged {
			got := float64(c0.bytes*8) / c0.gaps.Seconds()
			if math.Abs(got/cfg.Rate-1) > 0.01 {
				t.Errorf("%s: achieved %.4g bit/s, want %.4g within 1%%", c.name, got, cfg.Rate)
			}
		}
	}
}
