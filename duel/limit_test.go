package duel

import (
	"testing"
	"time"
)

// TestMeter drives the token bucket with synthetic arrival times: traffic
// paced at the limit (or within its tolerance) never empties it, whatever the
// run's length; traffic 10% over empties it once the burst is spent, and an
// unpaced burst empties it at once.
func TestMeter(t *testing.T) {
	const limit = 80e6 // bits/s: 10 MB/s
	cases := []struct {
		name     string
		factor   float64 // rate sent, as a multiple of the limit
		burst    int     // bytes sent at t=0 on top
		wantOver bool
	}{
		{"at the limit", 1, 0, false},
		{"within the tolerance", 1.04, 0, false},
		{"10% over", 1.10, 0, true},
		{"a start-up burst within the allowance", 1, 9 << 20, false},
		{"an unpaced burst", 1, 20 << 20, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMeter(limit, rateBurst)
			t0 := time.Unix(1000, 0)
			over := m.take(tc.burst, t0) < 0
			const pkt = 1400
			gap := time.Duration(float64(pkt*8) / (limit * tc.factor) * float64(time.Second))
			for now := t0; now.Sub(t0) < 30*time.Second && !over; now = now.Add(gap) {
				over = m.take(pkt, now) < 0
			}
			if over != tc.wantOver {
				t.Errorf("over the limit: %v, want %v", over, tc.wantOver)
			}
		})
	}
	if newMeter(0, rateBurst) != nil {
		t.Error("no limit must mean no meter")
	}
}
