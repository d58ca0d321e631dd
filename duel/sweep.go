package duel

import (
	"strconv"
	"strings"
	"time"

	"github.com/netduel/netduel/impair"
)

// Sweep is a grid of links: Base with each combination of a loss and a delay
// from its axes, losses outermost. An empty axis keeps Base's value.
type Sweep struct {
	Base   impair.Config
	Losses []SweepLoss     // random loss per direction, replacing Base's loss model
	Delays []time.Duration // delay per direction, replacing Base's
}

// SweepLoss is one loss of a sweep: netem's "loss random P [CORRELATION]".
type SweepLoss struct {
	P, Corr float64 // probability and correlation, 0..1
}

// Grid reports whether the sweep has more than one cell (an axis with more
// than one value), which makes it a loss × delay grid in reports.
func (s Sweep) Grid() bool { return len(s.Losses) > 1 || len(s.Delays) > 1 }

// Cells returns the sweep's cells, each configuration validated. In a grid
// each is labelled with its values ("loss 1%, delay 20ms"); a single cell has
// no label. The error is the first invalid configuration's
// (*impair.ConfigError).
func (s Sweep) Cells() ([]Cell, error) {
	losses := []*SweepLoss{nil}
	if len(s.Losses) > 0 {
		losses = nil
		for i := range s.Losses {
			losses = append(losses, &s.Losses[i])
		}
	}
	delays := []*time.Duration{nil}
	if len(s.Delays) > 0 {
		delays = nil
		for i := range s.Delays {
			delays = append(delays, &s.Delays[i])
		}
	}
	var cells []Cell
	for _, l := range losses {
		for _, d := range delays {
			c, err := s.cell(l, d)
			if err != nil {
				return nil, err
			}
			cells = append(cells, c)
		}
	}
	return cells, nil
}

// cell is the sweep's cell for a loss and a delay (nil: Base's).
func (s Sweep) cell(l *SweepLoss, d *time.Duration) (Cell, error) {
	cfg := s.Base
	var parts []string
	if l != nil {
		cfg.Loss = impair.CorrelatedLoss(l.P, l.Corr)
		parts = append(parts, l.label())
	}
	if d != nil {
		cfg.Delay = *d
		parts = append(parts, "delay "+d.String())
	}
	if err := cfg.Validate(); err != nil {
		return Cell{}, err
	}
	c := Cell{Link: &cfg}
	if s.Grid() {
		c.Label = strings.Join(parts, ", ")
	}
	return c, nil
}

// label names the loss in a cell's label: "loss 1%", "loss 1% (correlation 25%)".
func (l SweepLoss) label() string {
	s := "loss " + strconv.FormatFloat(l.P*100, 'g', -1, 64) + "%"
	if l.Corr > 0 {
		s += " (correlation " + strconv.FormatFloat(l.Corr*100, 'g', -1, 64) + "%)"
	}
	return s
}
