package report

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// Axis fitting for the plots. gonum panics on a log axis that reaches 0 and on a
// range it cannot tick ("illegal range": min == max at a magnitude where ±1 does
// not change a float, NaN); netduel never lets gonum choose a range or ticks:
// fitAxis sets both from values it has made finite and bounded, and its tickers
// return no ticks rather than panic on any range. A log axis is drawn as a
// linear axis of log10 of the values (gonum's LogScale panics at 0, and it
// places a centred axis label by the arithmetic middle of the range, which
// shrinks the plot).

// plotLimit bounds every plotted value, so that sums and ratios of two of them
// stay finite whatever a document holds.
const plotLimit = 1e200

// logRatio is the spread (largest over smallest positive value) from which an
// axis goes logarithmic: beyond it a linear axis flattens the smaller values
// into the baseline.
const logRatio = 20

// plotValue makes v drawable: NaN and ±Inf become 0, the rest is bounded, and
// magnitudes under 1/plotLimit (no figure of a run is that small) are 0.
func plotValue(v float64) float64 {
	v = min(max(finite(v), -plotLimit), plotLimit)
	if math.Abs(v) < 1/plotLimit {
		return 0
	}
	return v
}

// fitted is how an axis was fitted: whether it is logarithmic, and its floor,
// where values <= 0 are drawn (ticked 0).
type fitted struct {
	log   bool
	floor float64
}

// at returns where v is drawn, in axis units: log10 of v on a log axis.
func (f fitted) at(v float64) float64 {
	v = plotValue(v)
	if f.log {
		return math.Log10(max(v, f.floor))
	}
	return v
}

// fitAxis sets a's scale, range and tick marks for the values vs, with tick
// labels from label (which carries the unit). With logOK the axis is
// logarithmic when its positive values spread over more than logRatio; values
// <= 0 are then drawn on the floor, a decade under the smallest positive value,
// which is ticked as 0. A linear axis of positive values starts at 0 when
// fromZero is set. Without values it spans 0 to 1.
func fitAxis(a *plot.Axis, vs []float64, label func(float64) string, logOK, fromZero bool) fitted {
	lo, hi, posLo := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, v := range vs {
		v = plotValue(v)
		lo, hi = min(lo, v), max(hi, v)
		if v > 0 {
			posLo = min(posLo, v)
		}
	}
	if lo > hi { // no values
		lo, hi = 0, 1
	}
	if logOK && !math.IsInf(posLo, 1) && hi/posLo > logRatio {
		floor := posLo
		hasZero := lo <= 0
		if hasZero {
			floor = math.Pow(10, math.Floor(math.Log10(posLo))-1)
		}
		a.Scale = plot.LinearScale{}
		a.Min, a.Max = math.Log10(floor), math.Log10(hi)
		a.Tick.Marker = logTicks{label: label, zeroAt: floor, zero: hasZero}
		return fitted{log: true, floor: floor}
	}
	if fromZero {
		lo = min(lo, 0)
	}
	a.Scale = plot.LinearScale{}
	a.Min, a.Max = linearRange(lo, hi)
	a.Tick.Marker = linearTicks{label: label}
	return fitted{}
}

// linearRange returns a range holding lo..hi with min < max, widened when
// they are all equal.
func linearRange(lo, hi float64) (float64, float64) {
	if lo < hi {
		return lo, hi
	}
	if lo == 0 {
		return 0, 1
	}
	w := math.Abs(lo) * 0.1
	if w == 0 || lo-w == lo { // 0, or too small for a tenth to show
		w = 1
	}
	if lo > 0 && lo-w < 0 {
		return 0, lo + w
	}
	return lo - w, hi + w
}

// linearTicks labels four to ten round values (1, 2 or 5 times a power of
// ten apart) with their unit.
type linearTicks struct{ label func(float64) string }

// Ticks returns the ticks for min..max; none for a range it cannot tick.
func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	step := linearStep(lo, hi)
	if step == 0 {
		return nil
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi*(1+1e-12) && len(ticks) <= 50; i++ {
		v := i * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: t.label(v)})
	}
	return ticks
}

// linearStep returns the largest of 1, 2 and 5 times a power of ten that puts
// at least four ticks in lo..hi (or the smallest tried); 0 for a range that
// cannot be ticked.
func linearStep(lo, hi float64) float64 {
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsInf(hi-lo, 0) {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(hi-lo)))
	if p == 0 || math.IsInf(p, 0) {
		return 0
	}
	var step float64
	for _, m := range []float64{5, 2, 1, 0.5, 0.2, 0.1} {
		step = m * p
		if n := math.Floor(hi/step*(1+1e-12)) - math.Ceil(lo/step) + 1; n >= 4 {
			break
		}
	}
	return step
}

// logTicks labels a log axis (whose units are log10 of the values) at 1, 2
// and 5 times powers of ten (only powers of ten, or every few, over many
// decades), with minor ticks between, and the floor as 0 when values of 0 are
// drawn there.
type logTicks struct {
	label  func(float64) string
	zeroAt float64
	zero   bool
}

// Ticks returns the ticks for log10 of the values from lo to hi; none for a
// range it cannot tick.
func (t logTicks) Ticks(logLo, logHi float64) []plot.Tick {
	lo, hi := math.Pow(10, logLo), math.Pow(10, logHi)
	if !(lo > 0 && lo < hi) || math.IsInf(hi, 0) {
		return nil
	}
	d0, d1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	decades := d1 - d0
	mantissas := []float64{1, 2, 5}
	every := 1.0
	switch {
	case decades > 8:
		mantissas, every = []float64{1}, math.Ceil(decades/8)
	case decades > 3:
		mantissas = []float64{1}
	case decades <= 1:
		mantissas = []float64{1, 2, 3, 5}
	}
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	var ticks []plot.Tick
	if t.zero {
		ticks = append(ticks, plot.Tick{Value: math.Log10(t.zeroAt), Label: t.label(0)})
	}
	for d := d0; d <= d1; d++ {
		p := math.Pow(10, d)
		labelled := math.Mod(d-d0, every) == 0
		if every > 1 && !labelled {
			continue // over many decades, minor ticks would merge into a bar
		}
		for m := 1.0; m < 10; m++ {
			if every > 1 && m > 1 {
				break
			}
			v := m * p
			if !in(v) || (t.zero && v == t.zeroAt) {
				continue
			}
			tk := plot.Tick{Value: math.Log10(v)}
			if labelled && contains(mantissas, m) {
				tk.Label = t.label(v)
			}
			ticks = append(ticks, tk)
		}
	}
	return ticks
}

func contains(xs []float64, v float64) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// round3 prints v with at most 3 significant digits and no trailing zeros,
// with an exponent when it is far from 1 (only values from a hostile document
// are).
func round3(v float64) string {
	g := strconv.FormatFloat(v, 'g', 3, 64)
	if a := math.Abs(v); a != 0 && (a < 1e-3 || a >= 1e9) {
		return g
	}
	r, err := strconv.ParseFloat(g, 64)
	if err != nil {
		return g
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// withUnit scales v to the largest of units (each base times the previous)
// that keeps it at least 1, and labels it: "200 Mbit/s", "50 µs".
func withUnit(v, base float64, units []string) string {
	if v == 0 {
		return "0"
	}
	i := 0
	for math.Abs(v) >= base*(1-1e-9) && i < len(units)-1 {
		v /= base
		i++
	}
	return round3(v) + " " + units[i]
}

func tickRate(bps float64) string {
	return withUnit(bps, 1000, []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"})
}

func tickMicros(us float64) string {
	if math.Abs(us) >= 1e6 {
		return round3(us/1e6) + " s"
	}
	return withUnit(us, 1000, []string{"µs", "ms"})
}

func tickSeconds(s float64) string { return round3(s) + " s" }

func tickPercent(p float64) string { return round3(p) + "%" }
