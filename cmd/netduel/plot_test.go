package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/report"
)

// TestPlotFileNamesTheFlag: the engine's "nothing to plot" names no flag; the
// CLI's adds the flags that record what a chart needs, and keeps the chain.
func TestPlotFileNamesTheFlag(t *testing.T) {
	t.Parallel()
	rep := &duel.Report{Results: []duel.Result{{Proto: duel.ProtoTCP, Test: duel.TestThroughput}}}
	err := plotFile(filepath.Join(t.TempDir(), "x.svg"), rep)
	if !errors.Is(err, report.ErrNothingToPlot) || !strings.Contains(err.Error(), "--interval") {
		t.Errorf("err = %v, want ErrNothingToPlot naming --interval", err)
	}
}
