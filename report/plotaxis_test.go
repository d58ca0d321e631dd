package report

import (
	"math"
	"testing"

	"gonum.org/v1/plot"
)

// TestFitAxisRanges: whatever the values, the axis gets a finite range with
// min < max, every value is drawn inside it, and its ticks lie inside too.
func TestFitAxisRanges(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	for _, vs := range [][]float64{
		nil, {0}, {0, 0}, {1e20, 1e20}, {-1e20}, {5e-324}, {nan}, {inf, -inf}, {nan, 3},
		{-math.MaxFloat64, math.MaxFloat64}, {1e-300, 1e300}, {0, 1e-9, 1e9}, {17, 1500}, {40e3, 300e3}, {1, 1.0000000001},
	} {
		for _, logOK := range []bool{false, true} {
			for _, zero := range []bool{false, true} {
				var a plot.Axis
				f := fitAxis(&a, vs, tickRate, logOK, zero)
				if !(a.Min < a.Max) || math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) {
					t.Errorf("%v log %v zero %v: range %g..%g", vs, logOK, zero, a.Min, a.Max)
					continue
				}
				for _, v := range vs {
					if at := f.at(v); !(at >= a.Min && at <= a.Max) {
						t.Errorf("%v log %v: %g drawn at %g, outside %g..%g", vs, logOK, v, at, a.Min, a.Max)
					}
				}
				ticks := a.Tick.Marker.Ticks(a.Min, a.Max)
				labelled := 0
				for _, tk := range ticks {
					if tk.Value < a.Min-1e-9*math.Abs(a.Min) || tk.Value > a.Max+1e-9*math.Abs(a.Max) {
						t.Errorf("%v log %v: tick %q at %g outside %g..%g", vs, logOK, tk.Label, tk.Value, a.Min, a.Max)
					}
					if tk.Label != "" {
						labelled++
					}
				}
				if labelled < 2 || len(ticks) > 100 {
					t.Errorf("%v log %v zero %v: %d ticks, %d labelled", vs, logOK, zero, len(ticks), labelled)
				}
			}
		}
	}
	for _, tk := range []plot.Ticker{linearTicks{tickRate}, logTicks{label: tickRate}} {
		for _, r := range [][2]float64{{1, 1}, {2, 1}, {nan, 1}, {0, inf}, {-inf, inf}, {1e300, 1e301}} {
			tk.Ticks(r[0], r[1]) // must not panic
		}
	}
}
