package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/netduel/netduel/duel"
)

// sweepGrid is one grid table of a sweep: the figure its results' kinds
// measure, and the text of one result in a cell.
type sweepGrid struct {
	title string
	fig   duel.Figure
	value func(r *duel.Result) string
}

// sweepGrids are sweepTables' grids, in order.
var sweepGrids = []sweepGrid{
	{"Goodput", duel.FigStream, func(r *duel.Result) string { return FormatRate(r.GoodputBps) }},
	{"Delivery ratio (frames delivered / sent)", duel.FigStream, func(r *duel.Result) string {
		return fmt.Sprintf("%.2f%%", 100-finite(r.LostPct))
	}},
	{"Round trip p99", duel.FigRoundTrips, func(r *duel.Result) string {
		if r.RTT == nil || r.ReceivedFrames == 0 {
			return "none back"
		}
		return Micros(r.RTT.P99)
	}},
}

// sweepTables writes a loss × delay sweep as grid tables, rows loss and columns
// delay, each cell "TCP x | UDP y": goodput, delivery ratio (frames delivered of
// frames sent) and the round-trip p99.
func sweepTables(w io.Writer, rep *duel.Report, st Style) error {
	s := newSweep(rep)
	if len(s.losses) == 0 {
		return nil // no result across a link: nothing to grid
	}
	for _, g := range sweepGrids {
		if err := s.table(w, g, st); err != nil {
			return err
		}
	}
	return nil
}

// sweep is a report's results by loss and delay.
type sweep struct {
	rep            *duel.Report
	losses, delays []float64 // in order of first appearance
}

func newSweep(rep *duel.Report) sweep {
	s := sweep{rep: rep}
	for _, r := range rep.Results {
		if r.Link == nil {
			continue
		}
		if !slices.Contains(s.losses, r.Link.Loss) {
			s.losses = append(s.losses, r.Link.Loss)
		}
		if !slices.Contains(s.delays, r.Link.DelayMs) {
			s.delays = append(s.delays, r.Link.DelayMs)
		}
	}
	return s
}

// find returns the first result of kind k across the link of loss and delay.
func (s sweep) find(k *duel.Kind, loss, delay float64) *duel.Result {
	if k == nil {
		return nil
	}
	for i := range s.rep.Results {
		r := &s.rep.Results[i]
		if r.Link != nil && r.Kind() == k && r.Link.Loss == loss && r.Link.DelayMs == delay {
			return r
		}
	}
	return nil
}

// kindWith returns the first kind of protocol p that measures fig, or nil.
func kindWith(p duel.Proto, fig duel.Figure) *duel.Kind {
	for _, t := range duel.Tests() {
		if k, ok := duel.LookupKind(p, t); ok && k.Has(fig) {
			return k
		}
	}
	return nil
}

// table writes one grid, or nothing when the sweep's first cell has no result for it.
func (s sweep) table(w io.Writer, g sweepGrid, st Style) error {
	kinds := make([]*duel.Kind, len(columns))
	present := false
	for j, p := range columns {
		kinds[j] = kindWith(p, g.fig)
		present = present || s.find(kinds[j], s.losses[0], s.delays[0]) != nil
	}
	if !present {
		return nil
	}
	st.section(w, g.title+": "+protoList(" | ", allShown())+", rows loss per direction, columns delay per direction")
	header := []any{"loss \\ delay"}
	for _, d := range s.delays {
		header = append(header, strconv.FormatFloat(d, 'g', -1, 64)+" ms")
	}
	t := st.newTable(w, header...)
	for _, l := range s.losses {
		line := []any{strconv.FormatFloat(l, 'g', 4, 64) + "%"}
		for _, d := range s.delays {
			line = append(line, s.cellText(g, kinds, l, d))
		}
		if err := t.Append(line...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// cellText is one grid cell: each protocol's value, "TCP x | UDP y".
func (s sweep) cellText(g sweepGrid, kinds []*duel.Kind, loss, delay float64) string {
	text := ""
	for j, k := range kinds {
		if j > 0 {
			text += " | "
		}
		switch r := s.find(k, loss, delay); {
		case r == nil:
			text += na
		case r.Error != "":
			text += "error"
		default:
			text += g.value(r)
		}
	}
	return text
}
