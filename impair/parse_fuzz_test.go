package impair

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// FuzzParseSlot: any text is a slot or an error, never a panic; a slot
// written back (as the netem line writes it) reads again the same.
func FuzzParseSlot(f *testing.F) {
	for _, s := range []string{"10ms", "5ms 15ms packets 8", "2ms 4ms bytes 1600", "distribution normal 20ms 4ms packets 8 bytes 3000", "100", "1ms 1ms packets 0", "distribution pareto 1s 2s", "-1ms", "packets"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sl, err := ParseSlot(s)
		if err != nil {
			return
		}
		again, err := ParseSlot(sl.String())
		if err != nil || again.String() != sl.String() {
			t.Fatalf("%q -> %q -> %q, %v", s, sl.String(), again.String(), err)
		}
	})
}

// FuzzParseTrace: any file is a trace or an error naming a line, never a
// panic; a trace's opportunities are in order within a positive period.
func FuzzParseTrace(f *testing.F) {
	for _, s := range []string{"1\n2\n3\n", "0\n0\n5\n", "", "5\n3\n", "x\n", "0\n", "1\r\n1\r\n", strings.Repeat("9", 5000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseTrace(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		if len(tr.Opps) == 0 || tr.Period <= 0 {
			t.Fatalf("trace %v: %d opportunities, period %v", tr, len(tr.Opps), tr.Period)
		}
		for i := 1; i < len(tr.Opps); i++ {
			if tr.Opps[i] < tr.Opps[i-1] || tr.Opps[i] > tr.Period {
				t.Fatalf("opportunity %d at %v after %v (period %v)", i, tr.Opps[i], tr.Opps[i-1], tr.Period)
			}
		}
		if r := tr.Rate(); math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
			t.Fatalf("rate %v", r)
		}
	})
}

// FuzzParseRate: tc's rate units and netem's rate options read any text
// without a panic, and a rate read is a finite number of bits/s.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10mbit", "1.5gbit 20 100 5", "2MBps packetoverhead 20 cellsize 100 celloverhead 5", "10kibit overhead -14", "nanbit", "1e400mbit", "10 cellsize", "5mbit 1 2 3 4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields := strings.Fields(s)
		if len(fields) == 0 {
			return
		}
		bps, ok, err := ParseTCRate(fields[0])
		if ok && err == nil && (math.IsNaN(bps) || math.IsInf(bps, 0) || bps < 0) {
			t.Fatalf("%q: rate %v", fields[0], bps)
		}
		var c Config
		_ = ParseRateOptions(fields[1:], &c)
	})
}
