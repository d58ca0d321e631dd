package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netduel/netduel/duel"
)

// A failed run is still a complete document in every format: its finished
// results, the failed test with its error, and the run's error (Report.Error):
// a field in JSON, the end event in NDJSON, a last line in tables and
// Markdown, and a last row in CSV whose proto and test are empty.

// runErrorLine writes a failed run's error after its tables.
func runErrorLine(w io.Writer, rep *duel.Report, st Style) error {
	switch rest, ok := strings.CutPrefix(rep.Error, "interrupted "); {
	case rep.Error == "":
		return nil
	case !rep.Interrupted:
		return errorLine(w, "Run failed:", rep.Error, st)
	case ok: // "interrupted after 2 finished tests": not "Run interrupted: interrupted ..."
		return errorLine(w, "Run interrupted", rest, st)
	default:
		return errorLine(w, "Run interrupted:", rep.Error, st)
	}
}

// errorLine writes a document's last line: head (bold, or red) then msg.
func errorLine(w io.Writer, head, msg string, st Style) error {
	var err error
	if st.Markdown { // after a blank line, or Markdown takes it for a table's last row
		blank := "\n"
		if t, ok := w.(*tailWriter); ok && t.endsBlank() {
			blank = ""
		}
		_, err = fmt.Fprintf(w, "%s**%s** %s\n", blank, head, msg)
	} else {
		_, err = fmt.Fprintf(w, "%s %s\n", st.paint(colorRed, head), msg)
	}
	return err
}

// runErrorCSV writes a failed run's error as a last CSV row: every column
// empty but error.
func runErrorCSV(w io.Writer, rep *duel.Report) error {
	if rep.Error == "" {
		return nil
	}
	col := slices.IndexFunc(csvColumns, func(c csvColumn) bool { return c.name == "error" })
	return errorRow(w, len(csvColumns), col, rep.Error)
}

// errorRow writes a last CSV row of n columns, all empty but column col,
// which holds msg.
func errorRow(w io.Writer, n, col int, msg string) error {
	row := make([]string, n)
	row[col] = msg
	cw := csv.NewWriter(w)
	if err := cw.Write(row); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// tailWriter remembers the last two bytes written through it, so that a
// document's last line follows one blank line, not two.
type tailWriter struct {
	w    io.Writer
	last [2]byte
	n    int // bytes written, up to 2
}

func (t *tailWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	for _, c := range p[:n] {
		t.last[0], t.last[1] = t.last[1], c
		t.n = min(t.n+1, 2)
	}
	return n, err
}

// endsBlank reports whether what was written ends with a blank line (or
// nothing was written).
func (t *tailWriter) endsBlank() bool {
	return t.n == 0 || t.n == 2 && t.last == [2]byte{'\n', '\n'}
}

// blankLine ends what was written with one blank line: one newline, or none
// when a tailWriter's output already ends with a blank line.
func blankLine(w io.Writer) {
	if t, ok := w.(*tailWriter); ok && t.endsBlank() {
		return
	}
	fmt.Fprintln(w)
}
