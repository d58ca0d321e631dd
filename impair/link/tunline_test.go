package link

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestMarginSettlesAtP95: fed wake-ups whose lateness is uniform over 0-40
// µs, the spin margin settles near their 95th percentile (38 µs; at the
// 90th, 36 µs, it fails), and it stays within its bounds whatever the
// wake-ups.
func TestMarginSettlesAtP95(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	m := newMargin()
	var sum time.Duration
	const n, tail = 50_000, 10_000
	for i := range n {
		m.woke(time.Duration(r.Int64N(int64(40 * time.Microsecond))))
		if i >= n-tail {
			sum += m.d
		}
	}
	if mean := sum / tail; mean < 37*time.Microsecond || mean > 39*time.Microsecond {
		t.Errorf("margin settled at %v on average, want the 95th percentile, 38µs", mean)
	}
	for _, tc := range []struct {
		late, want time.Duration
	}{{time.Second, maxMargin}, {0, minMargin}} {
		for range 1000 {
			m.woke(tc.late)
		}
		if m.d != tc.want {
			t.Errorf("wake-ups %v late: margin %v, want %v", tc.late, m.d, tc.want)
		}
	}
}

// TestSpinBudget: the line spins at most half of each window, and may spin
// again in the next one.
func TestSpinBudget(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	var b spinBudget
	limit := spinWindow / spinShare
	steps := []struct {
		at    time.Duration
		stop  bool // stop the spin there instead of asking for more
		allow bool
	}{
		{0, false, true},
		{limit / 2, false, true},
		{limit / 2, true, false},                // a spin of limit/2 ends
		{limit / 2, false, true},                // another begins...
		{limit - time.Microsecond, false, true}, // ...and goes on to the limit
		{limit, false, false},
		{limit + time.Microsecond, true, false},
		{spinWindow - time.Microsecond, false, false}, // spent: the window's rest is off
		{spinWindow, false, true},                     // a new window
	}
	for i, s := range steps {
		if s.stop {
			b.stop(at(s.at))
			continue
		}
		if got := b.more(at(s.at)); got != s.allow {
			t.Errorf("step %d (at %v): more %v, want %v", i, s.at, got, s.allow)
		}
	}
}
