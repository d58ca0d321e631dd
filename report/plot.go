package report

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
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
	var plots []*plot.Plot
	if p := goodputPlot(rep); p != nil {
		plots = append(plots, p)
	}
	if p := cdfPlot(rep); p != nil {
		plots = append(plots, p)
	}
	if p := sweepPlot(rep); p != nil {
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return fmt.Errorf("nothing to plot: no intervals (use --interval) and no latency test")
	}
	const w = 20 * vg.Centimeter
	h := vg.Length(len(plots)) * 10 * vg.Centimeter
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

func drawAll(c vg.CanvasSizer, plots []*plot.Plot) {
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Centimeter, PadY: vg.Centimeter, PadTop: vg.Centimeter / 2, PadBottom: vg.Centimeter / 2, PadLeft: vg.Centimeter / 2, PadRight: vg.Centimeter}
	grid := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
}

// rateScale picks a unit for the largest rate.
func rateScale(maxBps float64) (float64, string) {
	switch {
	case maxBps >= 1e9:
		return 1e9, "Gbit/s"
	case maxBps >= 1e6:
		return 1e6, "Mbit/s"
	case maxBps >= 1e3:
		return 1e3, "kbit/s"
	}
	return 1, "bit/s"
}

func goodputPlot(rep *duel.Report) *plot.Plot {
	var peak float64
	var rs []*duel.Result
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Test == duel.TestThroughput && len(r.Intervals) > 0 {
			rs = append(rs, r)
			for _, iv := range r.Intervals {
				peak = max(peak, iv.GoodputBps)
			}
		}
	}
	if len(rs) == 0 {
		return nil
	}
	div, unit := rateScale(peak)
	p := plot.New()
	p.Title.Text = "Goodput over time"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "goodput (" + unit + ")"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	cells := cellIndex(rep)
	for _, r := range rs {
		pts := make(plotter.XYs, 0, len(r.Intervals))
		for _, iv := range r.Intervals {
			pts = append(pts, plotter.XY{X: (iv.StartS + iv.EndS) / 2, Y: finite(iv.GoodputBps) / div})
		}
		addLine(p, pts, r, cells)
	}
	return p
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

// sweepPlot draws, for a loss sweep, goodput against loss: one line per
// protocol and delay (log scale: TCP's goodput falls by orders of magnitude).
func sweepPlot(rep *duel.Report) *plot.Plot {
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
	peak := 0.0
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Test != duel.TestThroughput || r.Link == nil || r.GoodputBps <= 0 {
			continue
		}
		k := key{r.Proto, r.Link.DelayMs}
		if _, ok := lines[k]; !ok {
			keys = append(keys, k)
		}
		lines[k] = append(lines[k], plotter.XY{X: r.Link.Loss, Y: r.GoodputBps})
		losses[r.Link.Loss] = true
		peak = max(peak, r.GoodputBps)
	}
	if len(losses) < 2 {
		return nil
	}
	div, unit := rateScale(peak)
	p := plot.New()
	p.Title.Text = "Goodput against loss"
	p.X.Label.Text = "loss per direction (%)"
	p.Y.Label.Text = "goodput (" + unit + ", log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	delays := map[float64]int{}
	for _, k := range keys {
		if _, ok := delays[k.delay]; !ok {
			delays[k.delay] = len(delays)
		}
	}
	for _, k := range keys {
		pts := lines[k]
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		for i := range pts {
			pts[i].Y /= div
		}
		label := strings.ToUpper(k.proto)
		if len(delays) > 1 {
			label += fmt.Sprintf(", delay %gms", k.delay)
		}
		styleLine(p, pts, k.proto, delays[k.delay], label)
	}
	return p
}

func cdfPlot(rep *duel.Report) *plot.Plot {
	var rs []*duel.Result
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Test == duel.TestLatency && r.RTT != nil && (len(r.RTTCDF) > 0 || r.ReceivedFrames > 0) {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = "Round-trip time, cumulative distribution"
	p.X.Label.Text = "round trip (µs, log scale)"
	p.Y.Label.Text = "fraction of round trips"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	for _, r := range rs {
		cdf := r.RTTCDF
		if len(cdf) == 0 { // from a saved report: the summary's percentiles
			s := r.RTT
			cdf = []stats.CDFPoint{{US: s.Min, Fraction: 0}, {US: s.P50, Fraction: 0.5}, {US: s.P90, Fraction: 0.9},
				{US: s.P99, Fraction: 0.99}, {US: s.P999, Fraction: 0.999}, {US: s.Max, Fraction: 1}}
		}
		pts := make(plotter.XYs, 0, len(cdf))
		for _, c := range cdf {
			pts = append(pts, plotter.XY{X: max(finite(c.US), 1), Y: finite(c.Fraction)})
		}
		addLine(p, pts, r, cellIndex(rep))
	}
	p.Legend.Top = false // a CDF's lower right is empty
	return p
}

// addLine draws one result's line: the protocol's colour, and with several
// cells a dash pattern per cell and the cell in the legend.
func addLine(p *plot.Plot, pts plotter.XYs, r *duel.Result, cells map[string]int) {
	label := strings.ToUpper(r.Proto)
	if cells != nil && r.Cell != "" {
		label += " · " + r.Cell
	}
	styleLine(p, pts, r.Proto, cells[r.Cell], label)
}

// dashes are the line patterns told apart by cell or delay.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}

func styleLine(p *plot.Plot, pts plotter.XYs, proto string, style int, label string) {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.Color = protoColor[proto]
	l.Width = vg.Points(1.5)
	l.Dashes = dashes[style%len(dashes)]
	p.Add(l)
	p.Legend.Add(label, l)
	p.Legend.Top = true
}
