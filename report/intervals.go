package report

import (
	"fmt"
	"io"

	"github.com/netduel/netduel/duel"
)

// intervalTables writes one table per result that recorded intervals.
func intervalTables(w io.Writer, rep *duel.Report, st Style) error {
	for i := range rep.Results {
		r := &rep.Results[i]
		if len(r.Intervals) == 0 {
			continue
		}
		blankLine(w)
		st.section(w, fmt.Sprintf("Intervals: %s %s", protoName(r.Proto), r.Test))
		latency := has(r, duel.FigRoundTrips)
		header := []any{"interval", "frames", "lost", "goodput", "jitter"}
		if latency {
			header = []any{"interval", "round trips", "timed out", "goodput", "RTT p50", "RTT p99"}
		}
		t := st.newTable(w, header...)
		for _, iv := range r.Intervals {
			row := []any{
				fmt.Sprintf("%.2f-%.2f s", iv.StartS, iv.EndS),
				Count(iv.Frames), Count(iv.Lost), FormatRate(iv.GoodputBps),
			}
			if latency {
				row = append(row, Micros(iv.RTTP50US), Micros(iv.RTTP99US))
			} else if iv.JitterMs != nil {
				row = append(row, Micros(*iv.JitterMs*1000))
			} else {
				row = append(row, na)
			}
			if err := t.Append(row...); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}
