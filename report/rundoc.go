package report

import (
	"io"

	"github.com/netduel/netduel/duel"
)

// Extras are what a run adds to its results: assertion outcomes, a baseline
// comparison, and whether to show intervals in tables.
type Extras struct {
	Checks        []Check
	Baseline      *Baseline
	ShowIntervals bool
}

// RunDoc is a run's netduel.run/v1 document: the report and what the run
// added. Table and Markdown output put assertions and the baseline after the
// results; JSON and NDJSON include them; CSV stays one table and sends them,
// as tables, to Options.Side.
type RunDoc struct {
	Report *duel.Report
	Extras
}

// runJSON is the JSON of a RunDoc: the report plus its extras.
type runJSON struct {
	*duel.Report
	Assertions []Check   `json:"assertions,omitempty"`
	Baseline   *Baseline `json:"baseline,omitempty"`
}

func (d RunDoc) writeJSON(w io.Writer) error {
	return writeIndentedJSON(w, runJSON{d.Report, d.Checks, d.Baseline})
}

func (d RunDoc) writeNDJSON(w io.Writer) error {
	rep := d.Report
	nd := NewNDJSON(w)
	if err := nd.Start(rep, len(rep.Results)); err != nil {
		return err
	}
	for _, r := range rep.Results {
		if err := nd.Result(r); err != nil {
			return err
		}
	}
	return nd.Finish(rep, d.Extras)
}

// writeCSV writes the results, then the run's error as the CSV's last row.
func (d RunDoc) writeCSV(w, side io.Writer) error {
	if err := runCSV(w, d.Report); err != nil {
		return err
	}
	if err := runErrorCSV(w, d.Report); err != nil {
		return err
	}
	return d.extrasTables(side, Style{})
}

func (d RunDoc) writeTable(out io.Writer, st Style) error {
	w := &tailWriter{w: out}
	if err := runTable(w, d.Report, st); err != nil {
		return err
	}
	if d.ShowIntervals {
		if err := intervalTables(w, d.Report, st); err != nil {
			return err
		}
	}
	if err := d.extrasTables(w, st); err != nil {
		return err
	}
	return runErrorLine(w, d.Report, st)
}

// extrasTables writes the assertions and the baseline comparison.
func (d RunDoc) extrasTables(w io.Writer, st Style) error {
	if err := assertTable(w, d.Checks, st); err != nil {
		return err
	}
	return baselineTable(w, d.Baseline, st)
}
