package stats

import (
	"math"
	"math/rand"
	"testing"
	"time"
)

func TestSeqTracker(t *testing.T) {
	const big = uint64(1) << 32
	cases := []struct {
		name   string
		window int
		seqs   []uint64
		sent   uint64
		want   Counts
	}{
		{"in order", 0, []uint64{0, 1, 2, 3}, 4, Counts{Received: 4, Unique: 4}},
		{"gaps are lost", 0, []uint64{0, 2, 5}, 6, Counts{Received: 3, Unique: 3, Lost: 3}},
		{"reordered is not lost", 0, []uint64{0, 2, 1, 3}, 4, Counts{Received: 4, Unique: 4, Reordered: 1}},
		{"duplicates", 0, []uint64{0, 1, 1, 2, 0}, 3, Counts{Received: 5, Unique: 3, Duplicate: 2}},
		{"reordered then duplicated", 0, []uint64{0, 3, 1, 1, 2}, 4, Counts{Received: 5, Unique: 4, Reordered: 2, Duplicate: 1}},
		{"first seq not zero", 0, []uint64{2, 3}, 4, Counts{Received: 2, Unique: 2, Lost: 2}},
		{"in flight at the end", 0, []uint64{0, 1, 2}, 10, Counts{Received: 3, Unique: 3, Lost: 7}},
		{"sent zero", 0, []uint64{0, 1}, 0, Counts{Received: 2, Unique: 2}},
		{"seqs beyond sent never make lost negative", 0, []uint64{0, 1, 5, 6}, 3, Counts{Received: 4, Unique: 4, Lost: 1}},
		{"crossing 2^32", 0, []uint64{big - 3, big - 2, big, big - 1, big + 1, big + 1}, big + 2,
			Counts{Received: 6, Unique: 5, Lost: big - 3, Reordered: 1, Duplicate: 1}},
		{"near 2^64", 0, []uint64{math.MaxUint64 - 2, math.MaxUint64, math.MaxUint64 - 1, math.MaxUint64}, 0,
			Counts{Received: 4, Unique: 3, Reordered: 1, Duplicate: 1}},
		{"late beyond the window", 64, []uint64{0, 200, 1, 199, 200}, 201,
			Counts{Received: 5, Unique: 4, Lost: 197, Reordered: 2, Late: 1, Duplicate: 1}},
		{"jump larger than the window clears it", 64, []uint64{5, 1000, 1000 - 64 + 5}, 1001,
			Counts{Received: 3, Unique: 3, Lost: 998, Reordered: 1}},
		{"jump by exactly a window", 64, []uint64{0, 64, 63, 64}, 65,
			Counts{Received: 4, Unique: 3, Lost: 62, Reordered: 1, Duplicate: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewSeqTracker(tc.window)
			for _, s := range tc.seqs {
				tr.Add(s)
			}
			if got := tr.Counts(tc.sent); got != tc.want {
				t.Fatalf("Counts(%d) = %+v\nwant          %+v", tc.sent, got, tc.want)
			}
		})
	}
}

func TestSeqTrackerCorruptIsIndependent(t *testing.T) {
	tr := NewSeqTracker(0)
	tr.Add(0)
	tr.AddCorrupt()
	tr.Add(2)
	tr.AddCorrupt()
	want := Counts{Received: 2, Unique: 2, Lost: 1, Corrupt: 2}
	if got := tr.Counts(3); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestSeqTrackerOutcomes(t *testing.T) {
	tr := NewSeqTracker(64)
	steps := []struct {
		seq  uint64
		want Outcome
	}{{10, OutcomeNew}, {12, OutcomeNew}, {11, OutcomeReordered}, {11, OutcomeDuplicate}, {100, OutcomeNew}, {20, OutcomeLate}, {99, OutcomeReordered}}
	for _, s := range steps {
		if got := tr.Add(s.seq); got != s.want {
			t.Fatalf("Add(%d) = %v, want %v", s.seq, got, s.want)
		}
	}
}

// TestSeqTrackerMatchesReference compares random arrival orders, with drops and
// duplicates, against a map-based reference.
func TestSeqTrackerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 200; round++ {
		n := 1 + rng.Intn(3000)
		base := uint64(rng.Int63n(1 << 40))
		if round%3 == 0 {
			base = 0
		}
		var arrivals []uint64
		for i := 0; i < n; i++ {
			if rng.Float64() < 0.1 {
				continue // dropped
			}
			arrivals = append(arrivals, base+uint64(i))
			if rng.Float64() < 0.05 {
				arrivals = append(arrivals, base+uint64(i)) // duplicated
			}
		}
		// Local reordering: swap neighbours now and then.
		for i := 1; i < len(arrivals); i++ {
			if rng.Float64() < 0.1 {
				j := max(0, i-1-rng.Intn(20))
				arrivals[i], arrivals[j] = arrivals[j], arrivals[i]
			}
		}
		tr := NewSeqTracker(4096)
		seen := map[uint64]bool{}
		var want Counts
		var high uint64
		for k, s := range arrivals {
			tr.Add(s)
			want.Received++
			switch {
			case seen[s]:
				want.Duplicate++
			case k > 0 && s < high:
				want.Reordered++
				want.Unique++
			default:
				want.Unique++
			}
			seen[s] = true
			if k == 0 || s > high {
				high = s
			}
		}
		sent := base + uint64(n)
		delivered := uint64(0)
		for s := range seen {
			if s < sent {
				delivered++
			}
		}
		want.Lost = sent - delivered
		if got := tr.Counts(sent); got != want {
			t.Fatalf("round %d: got %+v\nwant       %+v", round, got, want)
		}
	}
}

func BenchmarkSeqTrackerInOrder(b *testing.B) {
	tr := NewSeqTracker(0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tr.Add(uint64(i))
	}
}

func BenchmarkSeqTrackerReordered(b *testing.B) {
	tr := NewSeqTracker(0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tr.Add(uint64(i ^ 1))
	}
}

func TestReceiverIntervals(t *testing.T) {
	r := NewReceiver()
	r.SetInterval(time.Second, 3*time.Second)
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Interval 0: seqs 0..9 with 3 and 4 missing; interval 1: 10..19 plus a late 3;
	// interval 2: nothing but 25 (20..24 lost); a straggler after 3 s joins interval 2.
	ms := 0
	for s := uint64(0); s < 10; s++ {
		if s == 3 || s == 4 {
			continue
		}
		r.Frame(s, 0, at(ms), 140, 100, true)
		ms += 100
	}
	for s := uint64(10); s < 20; s++ {
		r.Frame(s, 0, at(1000+int(s-10)*50), 140, 100, true)
	}
	r.Frame(3, 0, at(1600), 140, 100, true)
	r.Frame(25, 0, at(2500), 140, 100, true)
	r.Frame(26, 0, at(3200), 140, 100, true)
	rep := r.Report(27)
	if len(rep.Intervals) != 3 {
		t.Fatalf("%d intervals: %+v", len(rep.Intervals), rep.Intervals)
	}
	want := []struct{ frames, lost uint64 }{{8, 2}, {11, 0}, {2, 5}}
	for i, w := range want {
		iv := rep.Intervals[i]
		if iv.Frames != w.frames || iv.Lost != w.lost {
			t.Errorf("interval %d: frames %d lost %d, want %d and %d", i, iv.Frames, iv.Lost, w.frames, w.lost)
		}
		if want := float64(iv.Frames) * 100 * 8 / (iv.EndS - iv.StartS); math.Abs(iv.GoodputBps-want) > 1e-9 {
			t.Errorf("interval %d: goodput %v, want %v", i, iv.GoodputBps, want)
		}
	}
	// The straggler stretches the last interval to its arrival.
	if end := rep.Intervals[2].EndS; end != 3.2 {
		t.Errorf("last interval ends at %v s, want 3.2 (the straggler)", end)
	}
}
