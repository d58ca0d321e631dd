package stats

import "time"

// Jitter computes RFC 3550 interarrival jitter: for consecutive frames i-1 and i,
// D = (R_i - R_{i-1}) - (S_i - S_{i-1}) and J += (|D| - J)/16, where S is the
// sender's timestamp and R the arrival time. Clock offsets between the two ends
// cancel. Add does not allocate.
type Jitter struct {
	n                  uint64
	prevSent, prevRecv int64
	j, sum, max        float64 // ns
}

// JitterSummary is the jitter over a run, in milliseconds: the mean and the
// maximum of J over every frame after the first, and its final value.
type JitterSummary struct {
	Samples uint64  `json:"samples"`
	MeanMs  float64 `json:"mean_ms"`
	MaxMs   float64 `json:"max_ms"`
	LastMs  float64 `json:"last_ms"`
}

// Add records a frame's sender timestamp and arrival time, in ns on each clock.
func (j *Jitter) Add(sentNs, recvNs int64) {
	j.n++
	if j.n > 1 {
		d := float64((recvNs - j.prevRecv) - (sentNs - j.prevSent))
		if d < 0 {
			d = -d
		}
		j.j += (d - j.j) / 16
		j.sum += j.j
		j.max = max(j.max, j.j)
	}
	j.prevSent, j.prevRecv = sentNs, recvNs
}

// Summary returns the jitter so far; all zero with fewer than two frames.
func (j *Jitter) Summary() JitterSummary {
	s := JitterSummary{Samples: j.n}
	if j.n < 2 {
		return s
	}
	ms := float64(time.Millisecond)
	s.MeanMs = j.sum / float64(j.n-1) / ms
	s.MaxMs = j.max / ms
	s.LastMs = j.j / ms
	return s
}
