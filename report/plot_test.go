package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
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
	if err := Plot(filepath.Join(dir, "x.svg"), empty); err == nil || !strings.Contains(err.Error(), "nothing to plot") {
		t.Errorf("err = %v, want 'nothing to plot'", err)
	}
}

// TestPlotSweep: a loss sweep gets goodput against loss, a line per protocol
// and delay; the links of a multi-cell run are told apart in the legend.
func TestPlotSweep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sweep.svg")
	if err := Plot(path, sweepFixture()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"Goodput against loss", "TCP, delay 20ms", "UDP, delay 0ms", "cumulative distribution"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sweep plot lacks %q", want)
		}
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
