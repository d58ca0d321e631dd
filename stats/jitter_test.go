package stats

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestJitter(t *testing.T) {
	ms := int64(time.Millisecond)
	cases := []struct {
		name           string
		delays         []int64 // one-way delays, ns; frames sent every 10 ms
		mean, max, end float64 // ms
	}{
		{"no samples", nil, 0, 0, 0},
		{"one sample", []int64{5 * ms}, 0, 0, 0},
		{"constant delay", []int64{5 * ms, 5 * ms, 5 * ms, 5 * ms}, 0, 0, 0},
		// |D| = 16 ms once: J = 1 ms, then D = 0: J = 15/16 ms.
		{"one step", []int64{0, 16 * ms, 16 * ms}, (1 + 15.0/16) / 2, 1, 15.0 / 16},
		// Alternating 0/16 ms: |D| = 16 each time: J = 1, 1+15/16, ...
		{"alternating", []int64{0, 16 * ms, 0}, (1 + 1.9375) / 2, 1.9375, 1.9375},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var j Jitter
			clockOffset := int64(123456789) // cancels out
			for i, d := range tc.delays {
				sent := int64(i) * 10 * ms
				j.Add(sent, sent+d+clockOffset)
			}
			s := j.Summary()
			if !near(s.MeanMs, tc.mean) || !near(s.MaxMs, tc.max) || !near(s.LastMs, tc.end) {
				t.Fatalf("summary %+v, want mean %v max %v last %v", s, tc.mean, tc.max, tc.end)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRTT(t *testing.T) {
	r := NewRTT()
	if s := r.Summary(); s != (RTTSummary{}) {
		t.Fatalf("empty summary %+v", s)
	}
	for i := 1; i <= 1000; i++ {
		r.Record(time.Duration(i) * time.Microsecond)
	}
	r.Record(0)         // clamped to 1 ns
	r.Record(time.Hour) // clamped to 60 s
	s := r.Summary()
	if s.Count != 1002 || s.Min != 0.001 || s.P50 < 499 || s.P50 > 502 || s.P99 < 989 || s.P99 > 992 || s.Max < 59.9e6 || s.Max > 60.1e6 {
		t.Fatalf("summary %+v", s)
	}
	o := NewRTT()
	o.Record(5 * time.Millisecond)
	r.Merge(o)
	if r.Count() != 1003 {
		t.Fatalf("count after merge %d", r.Count())
	}
	// Sub-microsecond resolution: 8.2 µs is not reported as 8.
	f := NewRTT()
	for range 100 {
		f.Record(8200 * time.Nanosecond)
	}
	if p := f.Summary().P50; p < 8.19 || p > 8.21 {
		t.Fatalf("p50 of 8.2 µs round trips: %v", p)
	}
	// A histogram decoded from a document (whole µs) merges in converted.
	d, err := DecodeRTT(o.Encode())
	if err != nil {
		t.Fatal(err)
	}
	f.Merge(d)
	if s := f.Summary(); s.Count != 101 || s.Max < 4995 || s.Max > 5005 {
		t.Fatalf("after merging a decoded 5 ms: %+v", s)
	}
	if Rate(1000, 0) != 0 || Rate(125, time.Second) != 1000 {
		t.Fatal("Rate")
	}
}

func BenchmarkJitterAdd(b *testing.B) {
	var j Jitter
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		j.Add(int64(i)*1000, int64(i)*1000+int64(i%7))
	}
}

func BenchmarkRTTRecord(b *testing.B) {
	r := NewRTT()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Record(time.Duration(i%5000) * time.Microsecond)
	}
}

// TestPingPongIntervalsShareOneHistogram: per-interval round-trip percentiles
// come out right while only one interval histogram exists at a time (each
// held 30 KB, and a run may have MaxIntervals of them).
func TestPingPongIntervalsShareOneHistogram(t *testing.T) {
	t.Parallel()
	const every = 50 * time.Millisecond
	p := PingPong{Duration: 8 * every, Interval: every}
	start := time.Now()
	err := p.Run(context.Background(), func(uint64) (time.Duration, bool, error) {
		time.Sleep(200 * time.Microsecond)
		i := time.Since(start) / every
		return time.Duration(i+1) * 10 * time.Microsecond, true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, b := range p.iv.buckets {
		if b.rtt != nil {
			held++
		}
	}
	if held > 1 {
		t.Errorf("%d interval histograms held at the end, want at most 1", held)
	}
	checked := 0
	for i, it := range p.Report.Intervals {
		// Edges may mix two values, and a loaded machine may leave an
		// interval (nearly) empty: check the inner ones that have round trips.
		if i == 0 || i == len(p.Report.Intervals)-1 || it.Frames < 20 {
			continue
		}
		want := float64(i+1) * 10
		if it.RTTP50US < want*0.99 || it.RTTP50US > want*1.01+0.1 {
			t.Errorf("interval %d: p50 %v µs, want %v", i, it.RTTP50US, want)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("only %d intervals with round trips to check: %+v", checked, p.Report.Intervals)
	}
}
