package report

import (
	"math"
	"sort"

	"gonum.org/v1/plot/plotter"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// The charts Plot draws, each from a report's results; nil when the report
// has nothing for it.

func goodputPlot(rep *duel.Report) *chart {
	if tooManyCells(rep) {
		return nil
	}
	cells := cellIndex(rep)
	var ss []series
	for i := range rep.Results {
		r := &rep.Results[i]
		if !has(r, duel.FigStream) || len(r.Intervals) == 0 {
			continue
		}
		pts := make(plotter.XYs, 0, len(r.Intervals))
		for _, iv := range r.Intervals {
			pts = append(pts, plotter.XY{X: (plotValue(iv.StartS) + plotValue(iv.EndS)) / 2, Y: iv.GoodputBps})
		}
		ss = append(ss, resultSeries(pts, r, cells))
	}
	if len(ss) == 0 {
		return nil
	}
	return newChart("Goodput over time",
		axisSpec{name: "time since the test began", label: tickSeconds, zero: true},
		axisSpec{name: "goodput", label: tickRate, logOK: true, zero: true}, ss)
}

// resultSeries is one result's line: with several cells, the cell is in its
// label and picks its dash pattern.
func resultSeries(pts plotter.XYs, r *duel.Result, cells map[string]int) series {
	label := protoName(r.Proto)
	if cells != nil && r.Cell != "" {
		label += " · " + r.Cell
	}
	return series{pts: pts, proto: r.Proto, style: cells[r.Cell], label: label}
}

// cellIndex numbers the report's cells (links) in order, for line styles; nil
// when there is only one.
func cellIndex(rep *duel.Report) map[string]int {
	order := cellOrder(rep)
	if len(order) < 2 {
		return nil
	}
	m := make(map[string]int, len(order))
	for i, c := range order {
		m[c] = i
	}
	return m
}

// sweepGoodputPlot draws, for a loss sweep, goodput against loss: one line per
// protocol and delay (log scale when TCP's goodput falls by orders of
// magnitude; a goodput of 0 sits on the axis's floor, ticked 0).
func sweepGoodputPlot(rep *duel.Report) *chart {
	return sweepPlot(rep, duel.FigStream, "Goodput against loss",
		axisSpec{name: "goodput", label: tickRate, logOK: true, zero: true},
		func(r *duel.Result) (float64, bool) { return r.GoodputBps, true })
}

// sweepRTTPlot draws, for a loss sweep, the round trip's p99 against loss.
func sweepRTTPlot(rep *duel.Report) *chart {
	return sweepPlot(rep, duel.FigRoundTrips, "Round trip p99 against loss",
		axisSpec{name: "round trip p99", label: tickMicros, logOK: true, zero: true},
		func(r *duel.Result) (float64, bool) {
			if r.RTT == nil || r.ReceivedFrames == 0 {
				return 0, false
			}
			return r.RTT.P99, true
		})
}

// sweepPlot draws one figure of a sweep's results whose kinds measure fig
// against loss: a line per protocol and delay.
func sweepPlot(rep *duel.Report, fig duel.Figure, title string, y axisSpec, value func(*duel.Result) (float64, bool)) *chart {
	if !rep.Sweep {
		return nil
	}
	type key struct {
		proto duel.Proto
		delay float64
	}
	lines := map[key]plotter.XYs{}
	var keys []key
	losses := map[float64]bool{}
	for i := range rep.Results {
		r := &rep.Results[i]
		if !has(r, fig) || r.Link == nil || r.Error != "" {
			continue
		}
		v, ok := value(r)
		if !ok {
			continue
		}
		k := key{r.Proto, plotValue(r.Link.DelayMs)}
		if _, ok := lines[k]; !ok {
			keys = append(keys, k)
		}
		loss := plotValue(r.Link.Loss)
		lines[k] = append(lines[k], plotter.XY{X: loss, Y: v})
		losses[loss] = true
	}
	if len(losses) < 2 {
		return nil
	}
	delays := map[float64]int{}
	for _, k := range keys {
		if _, ok := delays[k.delay]; !ok {
			delays[k.delay] = len(delays)
		}
	}
	var ss []series
	for _, k := range keys {
		pts := lines[k]
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		label := protoName(k.proto)
		if len(delays) > 1 {
			label += ", delay " + round3(k.delay) + "ms"
		}
		ss = append(ss, series{pts: pts, proto: k.proto, style: delays[k.delay], label: label, marks: true})
	}
	return newChart(title, axisSpec{name: "loss per direction", label: tickPercent, logOK: true}, y, ss)
}

// maxCDFPoints bounds the points of one CDF line: more would not show.
const maxCDFPoints = 1000

// latencySeries returns the CDF of every latency result, and the title's note
// when some come from percentiles only.
func latencySeries(rep *duel.Report) ([]series, string) {
	if tooManyCells(rep) {
		return nil, ""
	}
	cells := cellIndex(rep)
	var ss []series
	note := ""
	for i := range rep.Results {
		r := &rep.Results[i]
		if !has(r, duel.FigRoundTrips) || r.RTT == nil {
			continue
		}
		if s, ok := cdfSeries(r, cells); ok {
			ss = append(ss, s)
			if s.marks {
				note = "\n(dots: min, p50, p90, p99, p99.9 and max, where the file holds no histogram)"
			}
		}
	}
	return ss, note
}

func cdfPlot(rep *duel.Report) *chart {
	ss, note := latencySeries(rep)
	if len(ss) == 0 {
		return nil
	}
	return newChart("Round-trip time, cumulative distribution"+note,
		axisSpec{name: "round trip", label: tickMicros, logOK: true},
		axisSpec{name: "round trips at most this long", label: fractionTick, fixed: []float64{0, 1}}, ss)
}

// tailPlot draws the same distributions as cdfPlot as the fraction of round
// trips longer than each value, on a log axis: the tail (p99, p99.9), flat
// against 100% on the CDF, spreads over decades here.
func tailPlot(rep *duel.Report) *chart {
	ss, note := latencySeries(rep)
	if len(ss) == 0 {
		return nil
	}
	for i := range ss {
		pts := make(plotter.XYs, len(ss[i].pts))
		for j, pt := range ss[i].pts {
			pts[j] = plotter.XY{X: pt.X, Y: max(0, 1-pt.Y)}
		}
		ss[i].pts = pts
	}
	return newChart("Round-trip tail: how many took longer"+note,
		axisSpec{name: "round trip", label: tickMicros, logOK: true},
		axisSpec{name: "round trips longer than this", label: fractionTick, logOK: true, fixed: []float64{1}}, ss)
}

func fractionTick(v float64) string { return tickPercent(v * 100) }

// cdfSeries is one latency result's CDF: from its histogram, or, for a
// document without one (written before netduel stored it), from the summary's
// percentiles, drawn as points and labelled so.
func cdfSeries(r *duel.Result, cells map[string]int) (series, bool) {
	s := resultSeries(nil, r, cells)
	why := "no histogram in the file"
	if r.RTTHistogram != "" {
		h, err := stats.DecodeRTT(r.RTTHistogram)
		if err == nil {
			cdf := h.CDF()
			if len(cdf) > 0 {
				s.pts = thinCDF(cdf)
				s.step = true
				return s, true
			}
		}
		why = "unreadable histogram"
	}
	if r.ReceivedFrames == 0 {
		return s, false
	}
	m := r.RTT
	cdf := []stats.CDFPoint{{US: m.Min, Fraction: 0}, {US: m.P50, Fraction: 0.5}, {US: m.P90, Fraction: 0.9},
		{US: m.P99, Fraction: 0.99}, {US: m.P999, Fraction: 0.999}, {US: m.Max, Fraction: 1}}
	last := 0.0
	for _, c := range cdf { // a CDF never goes back, whatever the file says
		last = max(last, plotValue(c.US))
		s.pts = append(s.pts, plotter.XY{X: last, Y: c.Fraction})
	}
	s.marks = true
	s.label += " · percentiles only (" + why + ")"
	return s, true
}

// thinCDF turns a histogram's CDF into a step line's points, starting from 0
// at the first bucket, with at most maxCDFPoints points: of buckets closer
// together than a pixel, only the last (highest fraction) is kept.
func thinCDF(cdf []stats.CDFPoint) plotter.XYs {
	pts := plotter.XYs{{X: cdf[0].US, Y: 0}}
	lo, hi := math.Log(max(cdf[0].US, 1)), math.Log(max(cdf[len(cdf)-1].US, 1))
	col := func(us float64) int {
		if hi <= lo {
			return 0
		}
		return int((math.Log(max(us, 1)) - lo) / (hi - lo) * maxCDFPoints)
	}
	for i, c := range cdf {
		if i+1 < len(cdf) && col(cdf[i+1].US) == col(c.US) {
			continue
		}
		pts = append(pts, plotter.XY{X: c.US, Y: c.Fraction})
	}
	return pts
}
