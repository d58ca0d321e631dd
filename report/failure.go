package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/netduel/netduel/duel"
)

// A failed run is still a complete document in every format: its finished
// results, the failed test with its error, and the run's error (Report.Error):
// a field in JSON, the end event in NDJSON, a last line in tables and
// Markdown, and a last row in CSV whose proto and test are empty.

// runErrorLine writes a failed run's error after its tables.
func runErrorLine(w io.Writer, rep *duel.Report, st Style) error {
	if rep.Error == "" {
		return nil
	}
	what, msg := "Run failed", rep.Error
	if rep.Interrupted {
		what = "Run interrupted"
		// "interrupted after 2 finished tests": not "Run interrupted: interrupted ...".
		if rest, ok := strings.CutPrefix(msg, "interrupted "); ok {
			what, msg = "Run interrupted", rest
			var err error
			if st.Markdown {
				_, err = fmt.Fprintf(w, "**%s** %s\n", what, msg)
			} else {
				_, err = fmt.Fprintf(w, "%s %s\n", st.paint(colorRed, what), msg)
			}
			return err
		}
	}
	var err error
	if st.Markdown {
		_, err = fmt.Fprintf(w, "**%s:** %s\n", what, msg)
	} else {
		_, err = fmt.Fprintf(w, "%s: %s\n", st.paint(colorRed, what), msg)
	}
	return err
}

// runErrorCSV writes a failed run's error as a last CSV row: every column
// empty but error.
func runErrorCSV(w io.Writer, rep *duel.Report) error {
	if rep.Error == "" {
		return nil
	}
	row := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		if c.name == "error" {
			row[i] = rep.Error
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(row); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
