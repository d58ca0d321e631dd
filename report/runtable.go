package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/netduel/netduel/duel"
)

// The run's comparison tables: one per test, one column per protocol.

const na = "—"

// runTable writes the comparison tables: one per test (one row per metric, one
// column per protocol, the better value highlighted; with several links, a pair of
// columns per link), the links' descriptions, then the socket lifecycle. A sweep
// (loss × delay) gets grid tables instead (see sweepTables).
func runTable(w io.Writer, rep *duel.Report, st Style) error {
	where := fmt.Sprintf("embedded server on %s, %s network stack", rep.Server, rep.Network)
	switch {
	case !rep.Embedded:
		where = fmt.Sprintf("server %s, %s network stack", rep.Server, rep.Network)
	case rep.Network == duel.NetworkLinks:
		where = "embedded server across an emulated link; see the link lines below"
	}
	fmt.Fprintf(w, "%s  (%s)\n\n", st.heading("netduel: "+protoList(" vs ", shown(rep))), where)
	cells := cellOrder(rep)
	if rep.Sweep {
		if err := sweepTables(w, rep, st); err != nil {
			return err
		}
	} else {
		for _, test := range duel.Tests() {
			if err := testTable(w, rep, cells, test, st); err != nil {
				return err
			}
		}
	}
	linkLines(w, rep, cells, st)
	if err := lifecycleTable(w, rep, st); err != nil {
		return err
	}
	if pc := rep.PortConflicts; pc != nil && len(pc.Experiments) > 0 {
		fmt.Fprintln(w)
		if err := heldPortTable(w, pc, st); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// cellOrder lists the results' cells in order of first appearance.
func cellOrder(rep *duel.Report) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if !seen[r.Cell] {
			seen[r.Cell] = true
			out = append(out, r.Cell)
		}
	}
	return out
}

// protoList joins the shown columns' protocol names: "TCP vs UDP".
func protoList(sep string, show []bool) string {
	var names []string
	for _, p := range keepShown(columns, show) {
		names = append(names, protoName(p))
	}
	return strings.Join(names, sep)
}

// testTable writes one test's table: a row per metric, a column per protocol
// (per protocol and cell with several cells), then each result's notes.
func testTable(w io.Writer, rep *duel.Report, cells []string, test duel.Test, st Style) error {
	var pairs [][]*duel.Result
	var labels []string
	for _, c := range cells {
		if pair, ok := perColumn(rep, c, test); ok {
			pairs, labels = append(pairs, pair), append(labels, c)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	st.section(w, strings.ToUpper(string(test[:1]))+string(test[1:])+sizeNote(pairs[0]))
	if anyRan(pairs) { // a table of tests that never ran would be all dashes: their errors say it
		if err := metricsTable(w, rep, pairs, labels, st); err != nil {
			return err
		}
	}
	var notes strings.Builder
	for i, pair := range pairs {
		where := ""
		if labels[i] != "" {
			where = " (" + labels[i] + ")"
		}
		for _, r := range pair {
			if r != nil {
				resultNotes(&notes, r, where, st)
			}
		}
	}
	if notes.Len() > 0 && st.Markdown && anyRan(pairs) {
		fmt.Fprintln(w) // else Markdown takes the notes for the table's last rows
	}
	fmt.Fprintln(w, notes.String())
	return nil
}

// anyRan reports whether any of the results started.
func anyRan(pairs [][]*duel.Result) bool {
	for _, pair := range pairs {
		for _, r := range pair {
			if r != nil && r.Ran() {
				return true
			}
		}
	}
	return false
}

// metricsTable writes the rows of a test's results, a column per protocol and cell.
func metricsTable(w io.Writer, rep *duel.Report, pairs [][]*duel.Result, labels []string, st Style) error {
	header := []any{"metric"}
	show := shown(rep)
	var perCell [][]row
	for i, pair := range pairs {
		suffix := ""
		if len(pairs) > 1 && labels[i] != "" {
			suffix = " · " + labels[i]
		}
		for _, p := range keepShown(columns, show) {
			header = append(header, protoName(p)+suffix)
		}
		rows := rowsFor(pair)
		if rep.Network == duel.NetworkLinks {
			rows = append(rows, linkRows(pair)...)
		}
		perCell = append(perCell, rows)
	}
	var all []*duel.Result
	for _, pair := range pairs {
		all = append(all, pair...)
	}
	t := st.newTable(w, header...)
	for i := range perCell[0] {
		if !perCell[0][i].wanted(all) {
			continue
		}
		line := []any{perCell[0][i].label}
		for _, rows := range perCell {
			line = append(line, keepShown(rows[i].render(st)[1:], show)...)
		}
		if err := t.Append(line...); err != nil {
			return err
		}
	}
	return t.Render()
}

// resultNotes writes the lines under a test's table about one result: its
// bit rate search, error, what caught corruption, and warnings.
func resultNotes(w io.Writer, r *duel.Result, where string, st Style) {
	name := protoName(r.Proto)
	if s := r.Search; s != nil {
		if s.Found {
			capped := ""
			if s.CapBps > 0 {
				capped = " (searched up to the server's --max-bitrate, " + FormatRate(s.CapBps) + ")"
			}
			fmt.Fprintf(w, "%s%s --bitrate max: %s, the highest rate with loss <= %g%% that the receiver kept up with%s, in %d tests: %s\n",
				name, where, searchFound(r), s.MaxLossPct, capped, len(s.Trials), s.Tried(FormatRate))
		} else {
			fmt.Fprintf(w, "%s%s --bitrate max: %s\n", name, where, st.bad(fmt.Sprintf(
				"no rate kept loss <= %g%% with the receiver keeping up; tried %s",
				s.MaxLossPct, s.Tried(FormatRate))))
		}
	}
	if r.Error != "" {
		fmt.Fprintf(w, "%s %s%s: %s\n", name, r.Test, where, st.bad("error: "+r.Error))
	}
	if line := corruptionLine(r); line != "" {
		fmt.Fprintf(w, "%s %s%s: %s\n", name, r.Test, where, line)
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "%s %s%s: %s\n", name, r.Test, where, st.bad("warning: "+warning))
	}
}

func sizeNote(pair []*duel.Result) string {
	var parts []string
	for i, r := range pair {
		if r != nil {
			parts = append(parts, fmt.Sprintf("%s %d-byte frames", protoName(columns[i]), r.Size))
		}
	}
	return "  (" + strings.Join(parts, ", ") + ")"
}

func searchFound(r *duel.Result) string {
	if r.RequestedBps == nil || *r.RequestedBps == 0 {
		return "unpaced"
	}
	return FormatRate(*r.RequestedBps)
}
