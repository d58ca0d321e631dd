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

// document is the netduel.run/v1 JSON document: the report plus its extras.
type document struct {
	*duel.Report
	Assertions []Check   `json:"assertions,omitempty"`
	Baseline   *Baseline `json:"baseline,omitempty"`
}

// Render writes rep in format (one of Formats) to w. Table and Markdown output
// put assertions and the baseline after the results; JSON and NDJSON include
// them; CSV stays one table on w and sends them, as tables, to side.
func Render(w, side io.Writer, format string, rep *duel.Report, x Extras, st Style) error {
	switch format {
	case "json":
		return WriteJSON(w, document{rep, x.Checks, x.Baseline})
	case "ndjson":
		nd := NewNDJSON(w)
		if err := nd.Start(rep, len(rep.Results)); err != nil {
			return err
		}
		for _, r := range rep.Results {
			if err := nd.Result(r); err != nil {
				return err
			}
		}
		return nd.Finish(len(rep.Results), x, rep.Interrupted, rep.Error)
	case "csv":
		if err := RunCSV(w, rep); err != nil {
			return err
		}
		if err := runErrorCSV(w, rep); err != nil {
			return err
		}
		w, st = side, Style{}
	case "markdown":
		st = Style{Markdown: true}
		fallthrough
	default:
		if err := RunTable(w, rep, st); err != nil {
			return err
		}
		if x.ShowIntervals {
			if err := IntervalTables(w, rep, st); err != nil {
				return err
			}
		}
	}
	if err := AssertTable(w, x.Checks, st); err != nil {
		return err
	}
	if err := BaselineTable(w, x.Baseline, st); err != nil {
		return err
	}
	if format == "csv" {
		return nil // the run's error is the CSV's last row
	}
	return runErrorLine(w, rep, st)
}
