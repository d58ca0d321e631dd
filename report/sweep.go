package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/netduel/netduel/duel"
)

// SweepTables writes a loss × delay sweep as grid tables, rows loss and columns
// delay, each cell "TCP x | UDP y": goodput, delivery ratio (frames delivered of
// frames sent) and the round-trip p99.
func SweepTables(w io.Writer, rep *duel.Report, st Style) error {
	var losses, delays []float64
	has := func(xs []float64, v float64) bool {
		for _, x := range xs {
			if x == v {
				return true
			}
		}
		return false
	}
	for _, r := range rep.Results {
		if r.Link == nil {
			continue
		}
		if !has(losses, r.Link.Loss) {
			losses = append(losses, r.Link.Loss)
		}
		if !has(delays, r.Link.DelayMs) {
			delays = append(delays, r.Link.DelayMs)
		}
	}
	find := func(proto duel.Proto, test duel.Test, loss, delay float64) *duel.Result {
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Link != nil && r.Proto == proto && r.Test == test && r.Link.Loss == loss && r.Link.DelayMs == delay {
				return r
			}
		}
		return nil
	}
	grids := []struct {
		title string
		test  duel.Test
		value func(r *duel.Result) string
	}{
		{"Goodput", duel.TestThroughput, func(r *duel.Result) string { return FormatRate(r.GoodputBps) }},
		{"Delivery ratio (frames delivered / sent)", duel.TestThroughput, func(r *duel.Result) string {
			return fmt.Sprintf("%.2f%%", 100-finite(r.LostPct))
		}},
		{"Round trip p99", duel.TestLatency, func(r *duel.Result) string {
			if r.RTT == nil || r.ReceivedFrames == 0 {
				return "none back"
			}
			return Micros(r.RTT.P99)
		}},
	}
	for _, g := range grids {
		if find(duel.ProtoTCP, g.test, losses[0], delays[0]) == nil && find(duel.ProtoUDP, g.test, losses[0], delays[0]) == nil {
			continue
		}
		fmt.Fprintln(w, st.heading(g.title+": TCP | UDP, rows loss per direction, columns delay per direction"))
		if st.Markdown {
			fmt.Fprintln(w)
		}
		header := []any{"loss \\ delay"}
		for _, d := range delays {
			header = append(header, strconv.FormatFloat(d, 'g', -1, 64)+" ms")
		}
		t := st.newTable(w, header...)
		for _, l := range losses {
			line := []any{strconv.FormatFloat(l, 'g', 4, 64) + "%"}
			for _, d := range delays {
				cellText := func(proto duel.Proto) string {
					if r := find(proto, g.test, l, d); r != nil {
						if r.Error != "" {
							return "error"
						}
						return g.value(r)
					}
					return na
				}
				line = append(line, cellText(duel.ProtoTCP)+" | "+cellText(duel.ProtoUDP))
			}
			if err := t.Append(line...); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}
