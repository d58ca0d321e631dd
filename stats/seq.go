// Package stats holds the measurement helpers that the tcp and udp packages share
// (they never import each other): receiver-side sequence accounting over 64-bit
// sequence numbers, RFC 3550 interarrival jitter, round-trip histograms, the
// request/response driver, and the sender and receiver reports built from them.
//
// Types in this package are not safe for concurrent use: callers serialise.
package stats

import "math/bits"

// Outcome classifies an arriving frame's sequence number.
type Outcome uint8

// Outcomes of SeqTracker.Add.
const (
	// OutcomeNew is a first arrival at or above every sequence number seen before.
	OutcomeNew Outcome = iota + 1
	// OutcomeReordered is a first arrival below the highest sequence number seen.
	OutcomeReordered
	// OutcomeDuplicate is a sequence number seen before.
	OutcomeDuplicate
	// OutcomeLate is an arrival too far below the highest sequence number for the
	// window to tell whether it was seen before. It counts as reordered.
	OutcomeLate
)

// DefaultWindow is the sliding bitmap's span, in sequence numbers.
const DefaultWindow = 1 << 20

// Counts are a receiver's frame counters. Lost, Reordered, Duplicate and Corrupt
// are independent: a reordered frame is never counted as lost, a duplicate never
// as unique, and no count ever goes negative.
type Counts struct {
	Received  uint64 `json:"received"`  // intact frames that arrived, duplicates included
	Unique    uint64 `json:"unique"`    // distinct sequence numbers that arrived intact
	Lost      uint64 `json:"lost"`      // sequence numbers in [0, sent) that never arrived intact
	Reordered uint64 `json:"reordered"` // first arrivals below the highest sequence number seen before them
	Duplicate uint64 `json:"duplicate"` // arrivals of a sequence number already seen
	Corrupt   uint64 `json:"corrupt"`   // frames that failed their CRC or body check
	Late      uint64 `json:"late"`      // arrivals older than the window, counted in Reordered too
}

// SeqTracker accounts for arriving sequence numbers with a sliding bitmap of the
// most recent Window sequence numbers below the highest seen. Add is O(1)
// amortised and does not allocate.
type SeqTracker struct {
	bits   []uint64 // ring: bit s%window says whether s arrived, for s in (high-window, high]
	window uint64
	high   uint64 // highest sequence number seen
	any    bool   // at least one arrival
	c      Counts
}

// NewSeqTracker returns a tracker with a window of the given size in sequence
// numbers, rounded up to a multiple of 64; window <= 0 means DefaultWindow.
func NewSeqTracker(window int) *SeqTracker {
	if window <= 0 {
		window = DefaultWindow
	}
	w := (uint64(window) + 63) &^ 63
	return &SeqTracker{bits: make([]uint64, w/64), window: w}
}

func (t *SeqTracker) test(s uint64) bool { i := s % t.window; return t.bits[i/64]&(1<<(i%64)) != 0 }
func (t *SeqTracker) set(s uint64)       { i := s % t.window; t.bits[i/64] |= 1 << (i % 64) }

// clearRange clears the bits of sequence numbers (from, to], at most one window.
func (t *SeqTracker) clearRange(from, to uint64) {
	if to-from >= t.window {
		clear(t.bits)
		return
	}
	for s := from + 1; s != to+1; s++ {
		i := s % t.window
		if i%64 == 0 && to-s >= 63 {
			t.bits[i/64] = 0
			s += 63
			continue
		}
		t.bits[i/64] &^= 1 << (i % 64)
	}
}

// Add records an intact arrival of seq and classifies it.
func (t *SeqTracker) Add(seq uint64) Outcome {
	t.c.Received++
	switch {
	case !t.any:
		t.any, t.high = true, seq
		t.set(seq)
		t.c.Unique++
		return OutcomeNew
	case seq > t.high:
		t.clearRange(t.high, seq)
		t.high = seq
		t.set(seq)
		t.c.Unique++
		return OutcomeNew
	case t.high-seq >= t.window:
		t.c.Unique++
		t.c.Reordered++
		t.c.Late++
		return OutcomeLate
	case t.test(seq):
		t.c.Duplicate++
		return OutcomeDuplicate
	default:
		t.set(seq)
		t.c.Unique++
		t.c.Reordered++
		return OutcomeReordered
	}
}

// AddCorrupt records a frame that failed its CRC or body check. Its sequence
// number is untrusted and is not recorded.
func (t *SeqTracker) AddCorrupt() { t.c.Corrupt++ }

// Counts returns the counters, with Lost computed against sent, the number of
// frames the sender says it sent (sequence numbers 0..sent-1). Arrivals with a
// sequence number at or above sent never make Lost negative.
func (t *SeqTracker) Counts(sent uint64) Counts {
	c := t.c
	delivered := c.Unique - t.atOrAbove(sent)
	if delivered < sent {
		c.Lost = sent - delivered
	}
	return c
}

// atOrAbove counts distinct arrivals with a sequence number >= bound, from the
// bitmap (exact while they are within the window; beyond it, all of the window).
func (t *SeqTracker) atOrAbove(bound uint64) uint64 {
	if !t.any || t.high < bound {
		return 0
	}
	if t.high-bound >= t.window {
		var n uint64
		for _, w := range t.bits {
			n += uint64(bits.OnesCount64(w))
		}
		return min(n, t.c.Unique)
	}
	var n uint64
	for s := bound; ; s++ {
		if t.test(s) {
			n++
		}
		if s == t.high {
			break
		}
	}
	return n
}
