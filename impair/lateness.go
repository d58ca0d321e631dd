package impair

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Lateness is how late the pipe handed packets on, against their departure
// times: the delay the emulator added beyond the model's (0 for a
// pass-through pipe, whose packets are not held).
type Lateness struct {
	Count          int64         // packets held and handed on
	P50, P99, Max  time.Duration // quantiles of the lateness
	Over1ms, Over5 int64         // packets more than 1 ms, and more than 5 ms, late (stalls)
}

// lateHist records lateness in ns, from 1 ns to a minute, 2 significant
// digits (a few KiB).
func newLateHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, int64(time.Minute), 2) }

func lateness(h *hdrhistogram.Histogram, over1, over5 int64) Lateness {
	if h == nil || h.TotalCount() == 0 {
		return Lateness{}
	}
	return Lateness{Count: h.TotalCount(), P50: time.Duration(h.ValueAtQuantile(50)), P99: time.Duration(h.ValueAtQuantile(99)),
		Max: time.Duration(h.Max()), Over1ms: over1, Over5: over5}
}
