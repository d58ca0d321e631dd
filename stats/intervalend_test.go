package stats

import (
	"testing"
	"time"
)

func TestEndAt(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	last := func(start, end, goodput float64, lastS *float64) Interval {
		return Interval{StartS: start, EndS: end, GoodputBps: goodput, Frames: 7, LastS: lastS}
	}
	for _, tc := range []struct {
		name      string
		in        Interval // the last interval
		total     time.Duration
		end, gbps float64
	}{
		{"the slice past the test's end", last(0.9, 1.2, 10, f(0.95)), time.Second, 1.0, 30},
		{"a last arrival after the test's end", last(0.9, 1.2, 10, f(1.05)), time.Second, 1.05, 20},
		{"stretched to its stragglers", last(0.9, 1.25, 10, f(1.25)), time.Second, 1.25, 10},
		{"the slice ends with the test", last(0.75, 1.0, 10, f(0.99)), time.Second, 1.0, 10},
		{"no last arrival (an older server)", last(0.9, 1.2, 10, nil), time.Second, 1.2, 10},
		{"the last arrival before the slice (intervals capped)", last(0.9, 1.2, 10, f(0.95)), 2 * time.Second, 1.2, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := []Interval{{StartS: 0, EndS: 0.3, GoodputBps: 5, LastS: f(0.2)}, tc.in}
			out := EndAt(in, tc.total)
			got := out[1]
			if d := got.EndS - tc.end; d > 1e-9 || d < -1e-9 || got.GoodputBps-tc.gbps > 1e-6 || got.GoodputBps-tc.gbps < -1e-6 || got.Frames != 7 {
				t.Errorf("got %g..%g s, %g bit/s, %d frames; want ..%g s, %g bit/s, 7", got.StartS, got.EndS, got.GoodputBps, got.Frames, tc.end, tc.gbps)
			}
			if out[0].LastS != nil || got.LastS != nil {
				t.Error("LastS left in the output")
			}
			if in[1].EndS != tc.in.EndS || in[1].LastS == nil && tc.in.LastS != nil {
				t.Error("the input changed")
			}
		})
	}
	if EndAt(nil, time.Second) != nil {
		t.Error("no intervals: want none")
	}
}

func TestListGivesTheLastArrival(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	for _, stream := range []bool{false, true} {
		r := intervalReceiver(stream, t0, 300*time.Millisecond, time.Second)
		arrive(r, stream, 0, t0, 10)
		arrive(r, stream, 1, t0, 980)
		ivs := r.Report(2).Intervals
		if len(ivs) != 4 || ivs[3].LastS == nil || *ivs[3].LastS != 0.98 || ivs[0].LastS != nil {
			t.Fatalf("stream %v: %+v, want 4 intervals, the last with the last arrival 0.98 s", stream, ivs)
		}
		if out := EndAt(ivs, time.Second); out[3].EndS != 1.0 {
			t.Errorf("stream %v: ends at %g s, want 1 s", stream, out[3].EndS)
		}
	}
}
