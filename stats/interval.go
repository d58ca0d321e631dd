package stats

import (
	"slices"
	"time"
)

// MaxIntervals bounds how many intervals one flow records.
const MaxIntervals = 3600

// Interval is one slice of a run, as the receiver (throughput) or the client
// (latency) saw it. Times are seconds from the flow's start.
type Interval struct {
	StartS     float64 `json:"start_s"`
	EndS       float64 `json:"end_s"`
	Frames     uint64  `json:"frames"`      // intact frames (throughput) or round trips (latency)
	Lost       uint64  `json:"lost_frames"` // throughput: sequence gap not filled in the interval; latency: timeouts
	GoodputBps float64 `json:"goodput_bps"`
	// JitterMs is a datagram flow's RFC 3550 jitter at the interval's end
	// (UDP throughput), once two frames have arrived; nil otherwise.
	JitterMs *float64 `json:"jitter_ms,omitempty"`
	RTTP50US float64  `json:"rtt_p50_us,omitempty"` // latency
	RTTP99US float64  `json:"rtt_p99_us,omitempty"` // latency
	// LastS is the run's last arrival, seconds from the flow's start, on
	// the last interval alone: what a client needs to end that interval at
	// the test's end (EndAt). A field of the exchange between the ends,
	// cleared by EndAt before any output.
	LastS *float64 `json:"last_arrival_s,omitempty"`
}

// EndAt ends a run's last interval at the test's end (total, --duration)
// when its slice runs past it, as it does when --interval does not divide
// --duration: at the later of the test's end and the run's last arrival
// (LastS), so that bytes a link's queue delivered after the sender stopped
// count over the time they took, never over less. Its goodput is over that
// span; its other figures are counts and stay. An interval without LastS
// (from a server before it was sent) is left as it came. It returns a copy,
// LastS cleared in every interval.
func EndAt(ivs []Interval, total time.Duration) []Interval {
	if len(ivs) == 0 {
		return ivs
	}
	out := slices.Clone(ivs)
	last := &out[len(out)-1]
	if l := last.LastS; l != nil && total > 0 {
		if end := max(total.Seconds(), *l); end > last.StartS && end < last.EndS {
			last.GoodputBps *= (last.EndS - last.StartS) / (end - last.StartS)
			last.EndS = end
		}
	}
	for i := range out {
		out[i].LastS = nil
	}
	return out
}

// bucket accumulates one interval.
type bucket struct {
	frames, unique, lost, body uint64
	maxSeq                     uint64
	hasSeq                     bool
	jitter                     float64 // ns, with hasJitter
	hasJitter                  bool
	rtt                        *RTT    // latency: the interval's round trips, while it is the current one
	rttP50, rttP99             float64 // latency: their percentiles, once it is over (rtt nil)
}

// closeRTT summarises the bucket's round trips and gives its histogram back,
// reset, for the next interval: one interval histogram per test, whatever the
// number of intervals (up to MaxIntervals of them held 30 KB each).
func (b *bucket) closeRTT() *RTT {
	r := b.rtt
	if r == nil {
		return nil
	}
	if r.Count() > 0 {
		s := r.Summary()
		b.rttP50, b.rttP99 = s.P50, s.P99
	}
	b.rtt = nil
	r.h.Reset()
	return r
}

// intervals slices a flow into fixed-length buckets by time from its start.
// The zero value records nothing.
type intervals struct {
	every   time.Duration
	n       int  // intervals in the run: later arrivals (stragglers) join the last
	known   bool // n is the run's, from its length (see pad)
	start   time.Time
	last    time.Time // the latest time given to at
	buckets []bucket
}

func newIntervals(every, total time.Duration, start time.Time) intervals {
	iv := intervals{every: every, start: start, n: MaxIntervals}
	if every > 0 && total > 0 {
		iv.n = IntervalCount(every, total)
		iv.known = true
	}
	return iv
}

// IntervalCount is how many intervals of every a run of total has: the
// last may be shorter, but not a sliver of under a thousandth of every
// (duration/30 leaves 10 ns of a 1 s run), which joins the one before.
func IntervalCount(every, total time.Duration) int {
	full := total - every/1000
	return min(max(int((full+every-1)/every), 1), MaxIntervals)
}

// pad adds the run's empty intervals after the last one anything arrived
// in, once the run is over: a stall at a test's end is intervals of 0
// frames, not intervals left out. It needs the run's length (newIntervals'
// total) and a start.
func (iv *intervals) pad() {
	if iv.known && !iv.start.IsZero() {
		iv.bucket(iv.n - 1)
	}
}

func (iv *intervals) enabled() bool { return iv.every > 0 }

// at returns the bucket for time now.
func (iv *intervals) at(now time.Time) *bucket {
	if iv.start.IsZero() {
		iv.start = now
	}
	if now.After(iv.last) {
		iv.last = now
	}
	return iv.bucket(iv.index(now))
}

// atIndex is at, with the bucket's number.
func (iv *intervals) atIndex(now time.Time) (int, *bucket) {
	b := iv.at(now)
	return iv.index(now), b
}

// index returns the number of the interval now falls in, once the start is set.
func (iv *intervals) index(now time.Time) int {
	i := int(now.Sub(iv.start) / iv.every)
	return min(max(i, 0), iv.n-1)
}

// bucket returns interval i's bucket, adding empty ones up to it.
func (iv *intervals) bucket(i int) *bucket {
	for len(iv.buckets) <= i {
		iv.buckets = append(iv.buckets, bucket{})
	}
	return &iv.buckets[i]
}

// list turns the buckets into Intervals; the last one is stretched to the
// last arrival when stragglers joined it. Lost frames in an interval are the
// sequence numbers its highest arrival passed over that no arrival in it filled
// (as iperf3 counts them), never negative.
func (iv *intervals) list() []Interval {
	out := make([]Interval, 0, len(iv.buckets))
	var prevMax uint64
	var prevSeen bool
	for i, b := range iv.buckets {
		it := Interval{
			StartS: (time.Duration(i) * iv.every).Seconds(),
			EndS:   (time.Duration(i+1) * iv.every).Seconds(),
			Frames: b.frames,
			Lost:   b.lost,
		}
		if i == len(iv.buckets)-1 {
			// Stragglers after the run's last interval join it: it ends at
			// the last of them, and its rate is over that length. The last
			// arrival goes with it (see EndAt).
			if !iv.last.IsZero() {
				l := max(0, iv.last.Sub(iv.start).Seconds())
				it.EndS, it.LastS = max(it.EndS, l), &l
			}
		}
		it.GoodputBps = Rate(b.body, time.Duration((it.EndS-it.StartS)*float64(time.Second)))
		if b.hasSeq {
			var span uint64
			if prevSeen && b.maxSeq > prevMax {
				span = b.maxSeq - prevMax
			} else if !prevSeen {
				span = b.maxSeq + 1
			}
			if span > b.unique {
				it.Lost = span - b.unique
			}
			if !prevSeen || b.maxSeq > prevMax {
				prevMax, prevSeen = b.maxSeq, true
			}
		}
		if b.hasJitter {
			j := b.jitter / float64(time.Millisecond)
			it.JitterMs = &j
		}
		if b.rtt != nil && b.rtt.Count() > 0 {
			s := b.rtt.Summary()
			it.RTTP50US, it.RTTP99US = s.P50, s.P99
		} else if b.rtt == nil {
			it.RTTP50US, it.RTTP99US = b.rttP50, b.rttP99
		}
		out = append(out, it)
	}
	return out
}
