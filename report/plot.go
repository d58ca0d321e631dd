package report

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/netduel/netduel/duel"
)

// PlotFormats are the file extensions Plot writes.
var PlotFormats = []string{".svg", ".png", ".html"}

var protoColor = map[duel.Proto]color.Color{
	duel.ProtoTCP: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	duel.ProtoUDP: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// ErrNothingToPlot is Plot's error for a report with nothing to draw (no
// intervals and no latency test); the CLI adds the flag that records them.
var ErrNothingToPlot = errors.New("nothing to plot")

// Plot draws the run's charts into path, in the format its extension names
// (.svg, .png, or .html: a page with the SVG inline, which opens without network
// access): goodput over time per protocol (from the results' intervals), the
// round-trip CDF and its tail per protocol (from the results' histograms), and
// for a loss sweep goodput and the round trip's p99 against loss. It returns an
// error naming what is missing when there is nothing to draw. No values make
// it panic (see plotaxis.go).
func Plot(path string, rep *duel.Report) error {
	if rep == nil {
		return fmt.Errorf("%w: no report", ErrNothingToPlot)
	}
	var plots []*chart
	for _, build := range []func(*duel.Report) *chart{goodputPlot, cdfPlot, tailPlot, sweepGoodputPlot, sweepRTTPlot} {
		if p := build(rep); p != nil {
			plots = append(plots, p)
		}
	}
	if len(plots) == 0 {
		return fmt.Errorf("%w: no intervals and no latency test", ErrNothingToPlot)
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
	proto duel.Proto
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

// maxSeries bounds the lines of one chart (a run has at most 2 protocols × 4
// links): each takes a legend line, and the picture's height grows with them.
const maxSeries = 16

// newChart fits both axes to the series' values and draws the series. Every
// value is made finite first, so no input makes gonum panic.
func newChart(title string, x, y axisSpec, ss []series) *chart {
	p := plot.New()
	p.Title.Text = title
	if len(ss) > maxSeries { // a hostile document: keep the picture (and its memory) bounded
		p.Title.Text += fmt.Sprintf("\n(the first %d of %d lines)", maxSeries, len(ss))
		ss = ss[:maxSeries]
	}
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
