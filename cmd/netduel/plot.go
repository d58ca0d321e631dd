package main

import (
	"errors"
	"fmt"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/report"
)

// plotFile draws rep's charts into path (--plot). When there is nothing to
// draw, the error says which flag records what the charts need.
func plotFile(path string, rep *duel.Report) error {
	err := report.Plot(path, rep)
	if errors.Is(err, report.ErrNothingToPlot) && rep != nil {
		return fmt.Errorf("%w (record intervals with --interval, or run a latency test with --test latency)", err)
	}
	return err
}
