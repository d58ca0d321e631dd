package stats

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// RTT histogram bounds. Round trips are recorded in nanoseconds, 1 ns to 60 s
// at 3 significant digits (a 10 µs round trip to within 8 ns), and reported
// in microseconds; a document's histogram (rtt_histogram) holds whole
// microseconds, 1 µs to 60 s, as it always did.
const (
	rttMinNS = 1
	rttMaxNS = 60_000_000_000
	rttMinUS = 1
	rttMaxUS = 60_000_000
)

// RTT records round trips in an HDR histogram.
type RTT struct {
	h    *hdrhistogram.Histogram
	unit float64 // microseconds per histogram value: 0.001 (recorded, ns) or 1 (decoded from a document)
}

// NewRTT returns an empty histogram covering 1 ns to 60 s with 3 significant digits.
func NewRTT() *RTT { return &RTT{h: hdrhistogram.New(rttMinNS, rttMaxNS, 3), unit: 1e-3} }

// newIntervalRTT returns a smaller histogram (2 significant digits) for one
// interval's percentiles.
func newIntervalRTT() *RTT { return &RTT{h: hdrhistogram.New(rttMinNS, rttMaxNS, 2), unit: 1e-3} }

// Record adds one round trip; values below 1 ns count as 1 ns and above 60 s
// as 60 s. It does not allocate.
func (r *RTT) Record(d time.Duration) {
	if r.unit != 1e-3 {
		_ = r.h.RecordValue(min(max(d.Microseconds(), rttMinUS), rttMaxUS)) // a decoded histogram
		return
	}
	_ = r.h.RecordValue(min(max(d.Nanoseconds(), rttMinNS), rttMaxNS))
}

// Merge adds o's round trips (converted where o's values are in another
// unit: a histogram decoded from a document holds microseconds).
func (r *RTT) Merge(o *RTT) {
	if o.unit == r.unit {
		r.h.Merge(o.h)
		return
	}
	for _, b := range o.h.Distribution() {
		if b.Count > 0 {
			v := int64(float64(b.To) * o.unit / r.unit)
			_ = r.h.RecordValues(min(max(v, r.h.LowestTrackableValue()), r.h.HighestTrackableValue()), b.Count)
		}
	}
}

// Count returns the number of round trips recorded.
func (r *RTT) Count() uint64 { return uint64(r.h.TotalCount()) }

// RTTSummary summarises round trips in microseconds. Every field is 0 when
// nothing was recorded: never NaN.
type RTTSummary struct {
	Count uint64  `json:"-"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summary returns min, mean, percentiles and max.
func (r *RTT) Summary() RTTSummary {
	n := r.Count()
	if n == 0 {
		return RTTSummary{}
	}
	us := func(v int64) float64 { return math.Round(float64(v)*r.unit*1e3) / 1e3 }
	q := func(p float64) float64 { return us(r.h.ValueAtQuantile(p)) }
	return RTTSummary{
		Count: n,
		Min:   us(r.h.Min()),
		Mean:  math.Round(r.h.Mean()*r.unit*1e3) / 1e3,
		P50:   q(50),
		P90:   q(90),
		P99:   q(99),
		P999:  q(99.9),
		Max:   us(r.h.Max()),
	}
}

// Rate returns bytes over d as bits per second; 0 when d <= 0 (never Inf or NaN).
func Rate(bytes uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) * 8 / d.Seconds()
}

// CDFPoint is one point of a round-trip distribution: Fraction of the round
// trips took at most US microseconds.
type CDFPoint struct {
	US       float64 `json:"us"`
	Fraction float64 `json:"fraction"`
}

// CDF returns the cumulative distribution of the round trips, one point per
// non-empty histogram bucket (its highest value and the fraction of round trips
// up to it), empty when nothing was recorded.
func (r *RTT) CDF() []CDFPoint {
	total := r.h.TotalCount()
	if total <= 0 {
		return nil
	}
	var out []CDFPoint
	var cum int64
	for _, b := range r.h.Distribution() {
		if b.Count <= 0 {
			continue
		}
		cum += b.Count
		out = append(out, CDFPoint{US: float64(b.To) * r.unit, Fraction: min(float64(cum)/float64(total), 1)})
	}
	return out
}
