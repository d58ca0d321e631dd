package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fatih/color"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/port"
)

// PortConflictsDoc is the netduel.port/v1 document of 'netduel port conflicts'.
type PortConflictsDoc struct {
	Schema      string            `json:"schema"`
	Command     string            `json:"command"`
	Version     string            `json:"netduel_version"`
	OS          string            `json:"os"`
	Experiments []port.Experiment `json:"experiments"`
}

func (doc *PortConflictsDoc) writeJSON(w io.Writer) error { return writeIndentedJSON(w, doc) }

func (doc *PortConflictsDoc) writeNDJSON(w io.Writer) error {
	return portNDJSON(w, doc.Schema, doc.Command, doc.Version, doc.Experiments, func(e port.Experiment) any {
		return struct {
			Event string `json:"event"`
			port.Experiment
		}{"experiment", e}
	}, struct {
		Event       string `json:"event"`
		Experiments int    `json:"experiments"`
	}{"end", len(doc.Experiments)})
}

func (doc *PortConflictsDoc) writeCSV(w, _ io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"name", "title", "port", "outcome", "observed"}
	for _, os := range port.OSes {
		header = append(header, "expected_"+os)
	}
	header = append(header, "as_expected", "explanation")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, e := range doc.Experiments {
		row := []string{e.Name, e.Title, strconv.Itoa(e.Port), e.Outcome, e.Observed}
		for _, os := range port.OSes {
			row = append(row, e.Expected[os])
		}
		row = append(row, asExpected(e.AsExpected), e.Explanation)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (doc *PortConflictsDoc) writeTable(w io.Writer, st Style) error {
	return conflictsTable(w, doc, st)
}

func asExpected(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "true"
	}
	return "false"
}

// osNames are the OS names people read.
var osNames = map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}

func conflictsTable(w io.Writer, doc *PortConflictsDoc, st Style) error {
	here := osNames[doc.OS]
	if here == "" {
		here = doc.OS
	}
	fmt.Fprintf(w, "%s  (real binds on this %s host, loopback only)\n\n", st.heading("netduel port conflicts"), here)
	t := st.newTable(w, "#", "experiment", "observed here", "documented for "+here)
	for i, e := range doc.Experiments {
		exp := e.Expected[doc.OS]
		if exp == "" {
			exp = na
		}
		obs := e.Observed
		switch {
		case e.AsExpected == nil:
		case *e.AsExpected:
			obs = st.good(obs)
		default:
			obs = st.paint(colorRed, obs+" (differs)")
		}
		if err := t.Append([]any{strconv.Itoa(i + 1), e.Title, obs, exp}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, st.heading("What each experiment did, and why"))
	for i, e := range doc.Experiments {
		fmt.Fprintln(w)
		if st.Markdown {
			fmt.Fprintf(w, "%d. **%s** (`%s`, port %d)\n", i+1, e.Title, e.Name, e.Port)
			for _, s := range e.Steps {
				fmt.Fprintf(w, "   - `%s`: %s\n", s.Socket, s.Result)
			}
			fmt.Fprintf(w, "   - documented: %s\n", expectedLine(e))
			fmt.Fprintf(w, "\n   %s\n", e.Explanation)
			continue
		}
		fmt.Fprintf(w, "%2d. %s (%s, port %d)\n", i+1, st.paint(color.Bold, e.Title), e.Name, e.Port)
		for _, s := range e.Steps {
			fmt.Fprintf(w, "      %s: %s\n", s.Socket, s.Result)
		}
		fmt.Fprintf(w, "      documented: %s\n", expectedLine(e))
		fmt.Fprintf(w, "      %s\n", e.Explanation)
	}
	return nil
}

func expectedLine(e port.Experiment) string {
	var parts []string
	for _, os := range port.OSes {
		if t, ok := e.Expected[os]; ok {
			parts = append(parts, osNames[os]+": "+t)
		}
	}
	return strings.Join(parts, "; ")
}

// heldPortTable writes the short port-conflict table of a run's report: for
// each of port.HeldPortExperiments, what was tried and what happened.
func heldPortTable(w io.Writer, pc *duel.PortConflicts, st Style) error {
	p, exps := pc.Port, pc.Experiments
	st.section(w, fmt.Sprintf("Port %d: what TCP and UDP sharing it means for other binds", p))
	t := st.newTable(w, "experiment", "binds tried", "observed")
	for _, e := range exps {
		var steps []string
		for _, s := range e.Steps {
			steps = append(steps, s.Socket+": "+s.Result)
		}
		if err := t.Append([]any{e.Title, strings.Join(steps, "; "), e.Observed}); err != nil {
			return err
		}
	}
	return t.Render()
}
