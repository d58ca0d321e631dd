package impair

import (
	"strings"
	"testing"
	"time"
)

func TestParseTCRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		bps  float64
		ok   bool
		fail bool
	}{
		{"10mbit", 10e6, true, false}, {"10Mbit", 10e6, true, false}, {"1.5gbit", 1.5e9, true, false},
		{"512kibit", 512 << 10, true, false}, {"800bit", 800, true, false}, {"2MBps", 16e6, true, false},
		{"1KiBps", 8 << 10, true, false}, {"3tbit", 3e12, true, false},
		{"10M", 0, false, false}, {"10Mbps", 0, false, false}, {"100", 0, false, false}, // netduel's own syntax
		{"mbit", 0, true, true}, {"-1mbit", 0, true, true}, {"xmbit", 0, true, true}, {"NaNmbit", 0, true, true},
	} {
		bps, ok, err := ParseTCRate(tc.in)
		if ok != tc.ok || (err != nil) != tc.fail || (!tc.fail && bps != tc.bps) {
			t.Errorf("%q: %v %v %v; want %v %v fail=%v", tc.in, bps, ok, err, tc.bps, tc.ok, tc.fail)
		}
	}
}

// TestParseRateOptions: tc's positional input form and the keywords tc
// prints read the same; bad input names what is wrong.
func TestParseRateOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want [3]int
		err  string
	}{
		{"", [3]int{}, ""},
		{"20", [3]int{20, 0, 0}, ""},
		{"20 100 5", [3]int{20, 100, 5}, ""},
		{"-14 53 5", [3]int{-14, 53, 5}, ""},
		{"packetoverhead 20 cellsize 100 celloverhead 5", [3]int{20, 100, 5}, ""},
		{"overhead 20 cellsize 100 celloverhead 5", [3]int{20, 100, 5}, ""},
		{"cellsize 53 PacketOverhead -14", [3]int{-14, 53, 0}, ""},
		{"20 100 5 7", [3]int{}, "4 values"},
		{"x", [3]int{}, `packet overhead "x" is not a whole number`},
		{"20 cellsize 100", [3]int{}, "every option as a keyword or none"},
		{"cellsize 100 20", [3]int{}, `"20": want packetoverhead, cellsize or celloverhead`},
		{"cellsize", [3]int{}, "cell size needs a number of bytes"},
		{"cellsize 1 cellsize 2", [3]int{}, "cell size given twice"},
		{"celloverhead 1.5", [3]int{}, `cell overhead "1.5" is not a whole number`},
		{"mtu 1500", [3]int{}, `packet overhead "mtu"`},
	} {
		var c Config
		err := ParseRateOptions(strings.Fields(tc.in), &c)
		got := [3]int{c.RateOverhead, c.CellSize, c.CellOverhead}
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %v %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v; want one containing %q", tc.in, err, tc.err)
		}
	}
}

// packetTimeNs is sch_netem.c's packet_time_ns, written out independently:
// the frame length plus the overhead; with cells, whole cells (one more for
// a remainder), each cell_size + cell_overhead bytes; then len·1e9 / rate,
// the rate in whole bytes per second.
func packetTimeNs(l int64, rateBytes uint64, overhead, cellSize, cellOverhead int64) uint64 {
	l += overhead
	if cellSize > 0 {
		cells := l / cellSize
		if l > cells*cellSize {
			cells++
		}
		l = cells * (cellSize + cellOverhead)
	}
	return uint64(l) * 1_000_000_000 / rateBytes
}

// TestRatePacketTimeMix: back to back, a mix of packet sizes leaves at the
// times netem's packet_time_ns gives for each (on the Ethernet frame: IP
// length + 14), and the achieved rate over the frame bytes netem counts is
// the configured one. Tried on a biased model: counting the IP length
// (no L2 header) is off by 14 bytes a packet and fails at the first packet;
// rounding cells down instead of up fails on every size not a multiple.
func TestRatePacketTimeMix(t *testing.T) {
	t.Parallel()
	sizes := []int{40, 52, 64, 576, 1000, 1280, 1400, 1500, 99, 1499}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"plain", Config{Rate: 10e6}},
		{"overhead", Config{Rate: 10e6, RateOverhead: 20}},
		{"cells", Config{Rate: 10e6, RateOverhead: 20, CellSize: 100, CellOverhead: 5}},
		{"atm", Config{Rate: 2e6, RateOverhead: -14, CellSize: 53, CellOverhead: 5}},
		{"odd rate", Config{Rate: 1_000_003}}, // tc keeps 125000 bytes/s
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.cfg
			c.QueueLimit = MaxQueueLimit
			m := NewModel(c, seeded(1))
			var at uint64
			var frames int64
			const rounds = 200
			for r := range rounds {
				for i, size := range sizes {
					n, v := m.Process(0, size)
					at += packetTimeNs(int64(size)+14, uint64(c.Rate/8), int64(c.RateOverhead), int64(c.CellSize), int64(c.CellOverhead))
					if n != 1 || v[0].Depart != time.Duration(at) {
						t.Fatalf("round %d packet %d (%d bytes): departs %v, netem's %v", r, i, size, v[0].Depart, time.Duration(at))
					}
					frames += c.rateBytes(size)
				}
			}
			got := float64(frames*8) / (float64(at) / 1e9)
			want := float64(uint64(c.Rate/8) * 8)
			if d := got/want - 1; d > 1e-6 || d < -1e-6 {
				t.Errorf("achieved %.1f bit/s on netem's lengths, configured %.1f", got, want)
			}
		})
	}
}
