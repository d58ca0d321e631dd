package report

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// PlotFormats are the file extensions Plot writes.
var PlotFormats = []string{".svg", ".png", ".html"}

var protoColor = map[string]color.Color{
	duel.ProtoTCP: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	duel.ProtoUDP: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// Plot draws the run's charts into path, in the format its extension names
// (.svg, .png, or .html: a page with the SVG inline, which opens without network
// access): goodput over time per protocol (from the results' intervals) and the
// round-trip CDF per protocol. It returns an error naming what is missing when
// there is nothing to draw.
func Plot(path string, rep *duel.Report) error {
	if rep == nil {
		return fmt.Errorf("nothing to plot: no report")
	}
	var plots []*chart
	for _, build := range []func(*duel.Report) *chart{goodputPlot, cdfPlot, tailPlot, sweepGoodputPlot, sweepRTTPlot} {
		if p := build(rep); p != nil {
			plots = append(plots, p)
		}
	}
	if len(plots) == 0 {
		return fmt.Errorf("nothing to plot: no intervals (use --interval) and no latency test")
	}
	const w = 20 * vg.Centimeter
	h := chartsHeight(plots)
	ext := strings.ToLower(filepath.Ext(path))
	var buf bytes.Buffer
	switch ext {
	case ".png":
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110), vgimg.UseBackgroundColor(color.White))
		drawAll(c, plots)
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return err
		}
	case ".svg", ".html":
		c := vgsvg.New(w, h)
		drawAll(c, plots)
		if _, err := c.WriteTo(&buf); err != nil {
			return err
		}
		if ext == ".html" {
			svg := buf.String()
			buf.Reset()
			title := html.EscapeString(fmt.Sprintf("netduel: TCP vs UDP, %s", rep.Started.Format("2006-01-02 15:04:05 MST")))
			fmt.Fprintf(&buf, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body style=\"font-family:sans-serif\">\n<h1>%s</h1>\n<p>server %s, %s network stack</p>\n%s\n</body></html>\n",
				title, title, html.EscapeString(rep.Server), html.EscapeString(rep.Network), svg[strings.Index(svg, "<svg"):])
		}
	default:
		return fmt.Errorf("plot file %q: the extension must be one of %s", path, strings.Join(PlotFormats, ", "))
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// chart is one plot and its legend. The legend is drawn in a strip under the
// plot, never over its data.
type chart struct {
	p      *plot.Plot
	legend plot.Legend
}

// series is one line of a chart, in data units, before the axes are fitted.
type series struct {
	pts   plotter.XYs
	proto string
	style int    // dash pattern: the cell or delay
	label string // legend entry
	step  bool   // a CDF: horizontal, then vertical
	marks bool   // points as well as the line (few points, or a summary)
}

// axisSpec says how to fit one axis.
type axisSpec struct {
	name  string
	label func(float64) string
	logOK bool
	zero  bool      // a linear axis starts at 0
	fixed []float64 // values the range must hold, besides the data's
}

const legendFont = 10

// newChart fits both axes to the series' values and draws the series. Every
// value is made finite first, so no input makes gonum panic.
func newChart(title string, x, y axisSpec, ss []series) *chart {
	p := plot.New()
	p.Title.Text = title
	xs, ys := append([]float64{}, x.fixed...), append([]float64{}, y.fixed...)
	for _, s := range ss {
		for _, pt := range s.pts {
			xs, ys = append(xs, pt.X), append(ys, pt.Y)
		}
	}
	fx, fy := fitAxis(&p.X, xs, x.label, x.logOK, x.zero), fitAxis(&p.Y, ys, y.label, y.logOK, y.zero)
	p.X.Label.Text, p.Y.Label.Text = axisName(x.name, fx), axisName(y.name, fy)
	p.Add(plotter.NewGrid())
	c := &chart{p: p, legend: plot.NewLegend()}
	c.legend.TextStyle.Font.Size = vg.Points(legendFont)
	c.legend.Left, c.legend.Top = true, true
	for _, s := range ss {
		pts := make(plotter.XYs, len(s.pts))
		for i, pt := range s.pts {
			pts[i] = plotter.XY{X: fx.at(pt.X), Y: fy.at(pt.Y)}
		}
		c.add(pts, s)
	}
	return c
}

func axisName(name string, f fitted) string {
	if f.log {
		return name + " (log scale)"
	}
	return name
}

// add draws one series: the protocol's colour, a dash pattern per cell or
// delay, and an entry in the legend.
func (c *chart) add(pts plotter.XYs, s series) {
	if len(pts) == 0 {
		return
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.Color = protoColor[s.proto]
	l.Width = vg.Points(1.5)
	l.Dashes = dashes[s.style%len(dashes)]
	if s.step {
		l.StepStyle = plotter.PostStep
	}
	c.p.Add(l)
	thumbs := []plot.Thumbnailer{l}
	if s.marks || len(pts) == 1 {
		if sc, err := plotter.NewScatter(pts); err == nil {
			sc.Color = l.Color
			sc.Radius = vg.Points(2.5)
			sc.Shape = draw.CircleGlyph{}
			c.p.Add(sc)
			thumbs = append(thumbs, sc)
		}
	}
	c.legend.Add(s.label, thumbs...)
}

// legendHeight is the height of the strip under the plot for its legend.
func (c *chart) legendHeight() vg.Length {
	r := c.legend.Rectangle(draw.Canvas{})
	if h := r.Max.Y - r.Min.Y; h > 0 {
		return h + vg.Points(legendFont)
	}
	return 0
}

// plotHeight is the height of one chart's plot area, without its legend.
const plotHeight = 9 * vg.Centimeter

func drawAll(c vg.CanvasSizer, charts []*chart) {
	dc := draw.New(c)
	const pad = vg.Centimeter / 2
	top := dc.Max.Y - pad
	for _, ch := range charts {
		lh := ch.legendHeight()
		area := dc
		area.Max.Y, area.Min.Y = top, top-plotHeight-lh
		area.Min.X, area.Max.X = dc.Min.X+pad, dc.Max.X-pad
		plotArea := area
		plotArea.Min.Y += lh
		ch.p.Draw(plotArea)
		leg := area
		leg.Max.Y = area.Min.Y + lh - vg.Points(legendFont)/2
		leg.Min.X += vg.Centimeter
		ch.legend.Draw(leg)
		top = area.Min.Y - pad
	}
}

// chartsHeight is the canvas height the charts need.
func chartsHeight(charts []*chart) vg.Length {
	h := vg.Centimeter / 2
	for _, ch := range charts {
		h += plotHeight + ch.legendHeight() + vg.Centimeter/2
	}
	return h
}

func goodputPlot(rep *duel.Report) *chart {
	if tooManyCells(rep) {
		return nil
	}
	cells := cellIndex(rep)
	var ss []series
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Test != duel.TestThroughput || len(r.Intervals) == 0 {
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
	label := strings.ToUpper(r.Proto)
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
	return sweepPlot(rep, duel.TestThroughput, "Goodput against loss",
		axisSpec{name: "goodput", label: tickRate, logOK: true, zero: true},
		func(r *duel.Result) (float64, bool) { return r.GoodputBps, true })
}

// sweepRTTPlot draws, for a loss sweep, the round trip's p99 against loss.
func sweepRTTPlot(rep *duel.Report) *chart {
	return sweepPlot(rep, duel.TestLatency, "Round trip p99 against loss",
		axisSpec{name: "round trip p99", label: tickMicros, logOK: true, zero: true},
		func(r *duel.Result) (float64, bool) {
			if r.RTT == nil || r.ReceivedFrames == 0 {
				return 0, false
			}
			return r.RTT.P99, true
		})
}

// sweepPlot draws one figure of a sweep's results of test against loss: a
// line per protocol and delay.
func sweepPlot(rep *duel.Report, test, title string, y axisSpec, value func(*duel.Result) (float64, bool)) *chart {
	if !rep.Sweep {
		return nil
	}
	type key struct {
		proto string
		delay float64
	}
	lines := map[key]plotter.XYs{}
	var keys []key
	losses := map[float64]bool{}
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Test != test || r.Link == nil || r.Error != "" {
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
		label := strings.ToUpper(k.proto)
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
		if r.Test != duel.TestLatency || r.RTT == nil {
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

// dashes are the line patterns told apart by cell or delay.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}, {vg.Points(12), vg.Points(4)},
	{vg.Points(4), vg.Points(2), vg.Points(1), vg.Points(2), vg.Points(1), vg.Points(2)},
	{vg.Points(1), vg.Points(3)}, {vg.Points(10), vg.Points(3), vg.Points(3), vg.Points(3), vg.Points(3), vg.Points(3)}}

// maxCellLines is how many links' lines a chart of per-link lines (goodput
// over time, CDFs) draws: past it they cannot be told apart, and a sweep's
// charts against loss summarise the run instead.
const maxCellLines = 4

func tooManyCells(rep *duel.Report) bool { return len(cellOrder(rep)) > maxCellLines }
