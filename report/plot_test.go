package report

import (
	"bytes"
	"errors"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

func TestPlotFormats(t *testing.T) {
	dir := t.TempDir()
	rep := fixture()
	for _, ext := range PlotFormats {
		path := filepath.Join(dir, "plot"+ext)
		if err := Plot(path, rep); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch ext {
		case ".png":
			if !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("not a PNG")
			}
		case ".svg", ".html":
			s := string(b)
			if !strings.Contains(s, "<svg") || !strings.Contains(s, "Goodput over time") || !strings.Contains(s, "cumulative distribution") {
				t.Errorf("%s lacks a chart", ext)
			}
			if strings.Contains(s, "http://") && ext == ".html" && strings.Contains(s, "<script") {
				t.Errorf("the page loads scripts from the network")
			}
		}
	}
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Plot(filepath.Join(dir, "x.pdf"), fixture()); err == nil {
		t.Error("a .pdf file must be refused")
	}
	empty := &duel.Report{Results: []duel.Result{{Proto: "tcp", Test: "throughput"}}}
	if err := Plot(filepath.Join(dir, "x.svg"), empty); !errors.Is(err, ErrNothingToPlot) || strings.Contains(err.Error(), "--") {
		t.Errorf("err = %v, want ErrNothingToPlot naming no flag (the CLI adds it)", err)
	}
}

// TestPlotSweep: a loss sweep gets goodput and the round trip's p99 against
// loss, a line per protocol and delay; the links of a multi-cell run are told
// apart in the legend.
func TestPlotSweep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sweep.svg")
	if err := Plot(path, sweepFixture()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"Goodput against loss", "Round trip p99 against loss", "TCP, delay 20ms", "UDP, delay 0ms"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sweep plot lacks %q", want)
		}
	}
	// Six links' lines could not be told apart: the charts against loss say it all.
	if strings.Contains(string(b), "cumulative distribution") {
		t.Error("a six-link sweep plot draws a CDF per link")
	}
	if os.Getenv("NETDUEL_PLOT_DIR") != "" { // to look at it: NETDUEL_PLOT_DIR=/tmp go test ./report -run PlotSweep
		Plot(filepath.Join(os.Getenv("NETDUEL_PLOT_DIR"), "sweep.png"), sweepFixture())
		Plot(filepath.Join(os.Getenv("NETDUEL_PLOT_DIR"), "links.png"), linksFixture())
	}
	if err := Plot(filepath.Join(dir, "links.svg"), linksFixture()); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "links.svg"))
	if !strings.Contains(string(b), "UDP · lossy (1% loss, 20ms each way)") {
		t.Error("a two-link plot does not name the links")
	}
}

// svgTexts returns the texts of an SVG written by Plot, in order, with their
// height on the page (larger is higher: gonum's SVG flips the y axis).
func svgTexts(t *testing.T, svg string) []svgText {
	t.Helper()
	var out []svgText
	for _, m := range svgTextRE.FindAllStringSubmatch(svg, -1) {
		y, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, svgText{up: -y, text: html.UnescapeString(m[2])})
	}
	return out
}

type svgText struct {
	up   float64
	text string
}

var svgTextRE = regexp.MustCompile(`(?s)<text x="[-0-9.e+]+" y="([-0-9.e+]+)"[^>]*>([^<]*)</text>`)

func plotSVG(t *testing.T, rep *duel.Report) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.svg")
	if err := Plot(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// latencyResult is a latency result with a histogram of the given round trips.
func latencyResult(proto duel.Proto, rtts ...time.Duration) duel.Result {
	h := stats.NewRTT()
	for _, d := range rtts {
		h.Record(d)
	}
	s := h.Summary()
	return duel.Result{Proto: proto, Test: duel.TestLatency, SentFrames: h.Count(), ReceivedFrames: h.Count(), RTT: &s, RTTHistogram: h.Encode()}
}

func spread(from, to time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = from + (to-from)*time.Duration(i)/time.Duration(n)
	}
	return out
}

// TestPlotCDFTicks: the CDF's round-trip axis has several labelled ticks, each
// with its unit, over ranges within one decade and over several.
func TestPlotCDFTicks(t *testing.T) {
	t.Parallel()
	for name, rs := range map[string][]duel.Result{
		"lossy link, one decade": {latencyResult("tcp", spread(40*time.Millisecond, 300*time.Millisecond, 500)...),
			latencyResult("udp", spread(40*time.Millisecond, 60*time.Millisecond, 500)...)},
		"loopback, two decades": {latencyResult("tcp", spread(17*time.Microsecond, 1500*time.Microsecond, 500)...)},
		"both":                  {latencyResult("tcp", spread(17*time.Microsecond, 80*time.Microsecond, 500)...), latencyResult("udp", spread(40*time.Millisecond, 300*time.Millisecond, 500)...)},
	} {
		svg := plotSVG(t, &duel.Report{Results: rs})
		var ticks []string
		for _, tx := range svgTexts(t, svg) {
			if tickLabelRE.MatchString(tx.text) {
				ticks = append(ticks, tx.text)
			}
		}
		if len(ticks) < 3 {
			t.Errorf("%s: round-trip ticks %q, want at least 3 with units (µs, ms, s)", name, ticks)
		}
	}
}

var tickLabelRE = regexp.MustCompile(`^[0-9.]+ (µs|ms|s)$`)

// TestPlotLegendBelowData: every legend entry is drawn under its chart's
// x-axis title, never over the lines (the CDF and its tail both).
func TestPlotLegendBelowData(t *testing.T) {
	t.Parallel()
	goodput := fixture()
	goodput.Results = goodput.Results[:1]
	goodput.Results = append(goodput.Results, duel.Result{Proto: "udp", Test: duel.TestThroughput,
		Intervals: []stats.Interval{{StartS: 0, EndS: 1, GoodputBps: 5e6}, {StartS: 1, EndS: 2, GoodputBps: 9e6}}})
	cdf := &duel.Report{Results: []duel.Result{latencyResult("tcp", spread(20*time.Microsecond, 90*time.Microsecond, 100)...),
		latencyResult("udp", spread(18*time.Microsecond, 30*time.Microsecond, 100)...)}}
	for name, tc := range map[string]struct {
		rep   *duel.Report
		xAxis string
	}{
		"goodput": {goodput, "time since the test began"},
		"cdf":     {cdf, "round trip"},
	} {
		// Each chart's texts come in order: its title, axis titles and ticks,
		// then its legend; a legend entry must be under its chart's x-axis title.
		axis, charts, n := math.Inf(-1), 0, 0
		for _, tx := range svgTexts(t, plotSVG(t, tc.rep)) {
			switch {
			case tx.text == tc.xAxis || strings.HasPrefix(tx.text, tc.xAxis+" ("):
				axis = tx.up
				charts++
			case tx.text == "TCP" || tx.text == "UDP":
				n++
				if tx.up >= axis {
					t.Errorf("%s: legend entry %q at %.0f, above its chart's x-axis title at %.0f: it covers the data", name, tx.text, tx.up, axis)
				}
			}
		}
		if charts == 0 || n != 2*charts {
			t.Errorf("%s: %d legend entries in %d charts, want 2 each", name, n, charts)
		}
	}
}

// TestPlotGoodputLogAxis: TCP at 20 Gbit/s beside UDP at 5 Mbit/s gets a log
// axis, ticked in both ranges with units, so the UDP line is not flat on 0.
func TestPlotGoodputLogAxis(t *testing.T) {
	t.Parallel()
	rep := &duel.Report{Results: []duel.Result{
		{Proto: "tcp", Test: duel.TestThroughput, Intervals: []stats.Interval{{StartS: 0, EndS: 1, GoodputBps: 20e9}, {StartS: 1, EndS: 2, GoodputBps: 21e9}}},
		{Proto: "udp", Test: duel.TestThroughput, Intervals: []stats.Interval{{StartS: 0, EndS: 1, GoodputBps: 5e6}, {StartS: 1, EndS: 2, GoodputBps: 0}}},
	}}
	var labels []string
	for _, tx := range svgTexts(t, plotSVG(t, rep)) {
		labels = append(labels, tx.text)
	}
	all := strings.Join(labels, "|")
	for _, want := range []string{"|10 Mbit/s|", "|1 Gbit/s|", "|10 Gbit/s|", "|0|", "goodput (log scale)"} {
		if !strings.Contains("|"+all+"|", want) {
			t.Errorf("goodput chart lacks %q: %s", want, all)
		}
	}
}

// TestPlotCDFSource: a result with a histogram is drawn from every bucket; one
// from an older file (percentiles only) still draws, labelled as such.
func TestPlotCDFSource(t *testing.T) {
	t.Parallel()
	withHist := latencyResult("tcp", spread(20*time.Microsecond, 900*time.Microsecond, 5000)...)
	s, ok := cdfSeries(&withHist, nil)
	if !ok || len(s.pts) < 100 || !s.step || strings.Contains(s.label, "percentiles") {
		t.Errorf("from a histogram: %d points, step %v, label %q; want >= 100 points of a step line", len(s.pts), s.step, s.label)
	}
	if n := len(s.pts); n > maxCDFPoints+2 {
		t.Errorf("%d points: more than %d", n, maxCDFPoints+2)
	}
	old := withHist
	old.RTTHistogram = ""
	s, ok = cdfSeries(&old, nil)
	if !ok || len(s.pts) != 6 || !strings.Contains(s.label, "percentiles only") {
		t.Errorf("from percentiles: %d points, label %q", len(s.pts), s.label)
	}
	bad := withHist
	bad.RTTHistogram = "garbage"
	if s, ok = cdfSeries(&bad, nil); !ok || !strings.Contains(s.label, "unreadable") {
		t.Errorf("unreadable histogram: label %q", s.label)
	}
	svg := plotSVG(t, &duel.Report{Results: []duel.Result{old}})
	if !strings.Contains(svg, "percentiles only") {
		t.Error("a CDF from percentiles is not labelled as such")
	}
}

// TestPlotHostile: no value a document can hold makes Plot panic, in any
// format; it draws or says there is nothing to draw.
func TestPlotHostile(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	ivs := func(vs ...float64) []stats.Interval {
		var out []stats.Interval
		for i, v := range vs {
			out = append(out, stats.Interval{StartS: float64(i), EndS: float64(i + 1), GoodputBps: v})
		}
		return out
	}
	tput := func(vs ...float64) duel.Result {
		return duel.Result{Proto: "tcp", Test: duel.TestThroughput, Intervals: ivs(vs...)}
	}
	lat := func(s stats.RTTSummary, hist string) duel.Result {
		return duel.Result{Proto: "udp", Test: duel.TestLatency, ReceivedFrames: 1, RTT: &s, RTTHistogram: hist}
	}
	sweep := func(loss, delay, goodput float64) []duel.Result {
		return []duel.Result{
			{Proto: "tcp", Test: duel.TestThroughput, GoodputBps: goodput, Link: &duel.LinkInfo{Loss: 0, DelayMs: delay}},
			{Proto: "tcp", Test: duel.TestThroughput, GoodputBps: goodput, Link: &duel.LinkInfo{Loss: loss, DelayMs: delay}},
		}
	}
	one := latencyResult("tcp", 50*time.Microsecond)
	cases := map[string][]duel.Result{
		"zero":             {tput(0, 0, 0)},
		"one point":        {tput(1e6)},
		"equal huge":       {tput(1e20, 1e20)},
		"NaN":              {tput(nan, nan)},
		"Inf":              {tput(inf, -inf, 5)},
		"negative":         {tput(-5, -1e300)},
		"huge range":       {tput(1e-300, 1e300)},
		"max float":        {tput(math.MaxFloat64, -math.MaxFloat64)},
		"NaN times":        {{Proto: "udp", Test: duel.TestThroughput, Intervals: []stats.Interval{{StartS: nan, EndS: inf, GoodputBps: 1}}}},
		"one round trip":   {one},
		"summary zero":     {lat(stats.RTTSummary{}, "")},
		"summary NaN":      {lat(stats.RTTSummary{Min: nan, P50: inf, P90: -1, P99: 1e300, P999: nan, Max: -inf}, "")},
		"summary reversed": {lat(stats.RTTSummary{Min: 900, P50: 5, P90: 4, P99: 3, P999: 2, Max: 1}, "")},
		"bad histogram":    {lat(stats.RTTSummary{Min: 1, Max: 1}, "!!")},
		"sweep NaN":        sweep(nan, nan, nan),
		"sweep equal huge": sweep(1e20, 1e20, 1e20),
		"sweep inf":        sweep(inf, -inf, inf),
	}
	dir := t.TempDir()
	if d := os.Getenv("NETDUEL_PLOT_DIR"); d != "" { // to look at them
		dir = d
	}
	for name, rs := range cases {
		rep := &duel.Report{Results: rs, Sweep: strings.HasPrefix(name, "sweep")}
		for _, ext := range PlotFormats {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+ext)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s %s: panic: %v", name, ext, p)
					}
				}()
				if err := Plot(path, rep); err != nil && !strings.Contains(err.Error(), "nothing to plot") {
					t.Errorf("%s %s: %v", name, ext, err)
				}
			}()
		}
	}
}

// TestPlotTail: the tail chart spreads p99 and p99.9 over decades of a log
// axis, where the CDF keeps them flat against 100%.
func TestPlotTail(t *testing.T) {
	t.Parallel()
	rtts := spread(20*time.Microsecond, 40*time.Microsecond, 10000)
	rtts = append(rtts, spread(4*time.Millisecond, 6*time.Millisecond, 10)...)
	svg := plotSVG(t, &duel.Report{Results: []duel.Result{latencyResult("udp", rtts...)}})
	var labels []string
	for _, tx := range svgTexts(t, svg) {
		labels = append(labels, tx.text)
	}
	all := "|" + strings.Join(labels, "|") + "|"
	for _, want := range []string{"|Round-trip tail: how many took longer|", "|round trips longer than this (log scale)|", "|1%|", "|0.1%|", "|0.01%|"} {
		if !strings.Contains(all, want) {
			t.Errorf("tail chart lacks %q: %s", want, all)
		}
	}
}

// TestPlotManyLines: a document with hundreds of results draws a bounded
// number of lines (the legend, and the picture's height, grow with them).
func TestPlotManyLines(t *testing.T) {
	t.Parallel()
	rep := &duel.Report{}
	for range 300 {
		rep.Results = append(rep.Results, latencyResult("udp", 20*time.Microsecond, 30*time.Microsecond))
	}
	svg := plotSVG(t, rep)
	if !strings.Contains(svg, "the first 16 of 300 lines") {
		t.Error("300 lines drawn without a word")
	}
	if n := strings.Count(svg, ">UDP</text>"); n != 2*maxSeries {
		t.Errorf("%d legend entries, want %d in each of 2 charts", n, maxSeries)
	}
}
