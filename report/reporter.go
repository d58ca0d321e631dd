package report

import (
	"fmt"
	"io"
	"strings"
)

// A Reporter writes one document in one format (vegeta's shape): build one
// with NewReporter, then call it with the writer.
type Reporter func(io.Writer) error

// Document is a document report renders in every one of Formats: a run
// (RunDoc) or a port command's (PortCheckDoc, PortFreeDoc, PortConflictsDoc).
type Document interface {
	writeJSON(w io.Writer) error
	writeNDJSON(w io.Writer) error
	// writeCSV writes the document's one CSV table on w, and what does not
	// fit it (a run's assertions and baseline), as tables, on side.
	writeCSV(w, side io.Writer) error
	// writeTable writes the tables people read: box-drawn, or Markdown with
	// st.Markdown.
	writeTable(w io.Writer, st Style) error
}

// Options say how Render writes a document.
type Options struct {
	// Format is one of Formats; empty means "table".
	Format string
	// Style is the tables' look (colour) in the table format; Markdown and
	// CSV choose their own.
	Style Style
	// Side receives, in the CSV format, the tables the CSV cannot hold (a
	// run's assertions and baseline); nil discards them.
	Side io.Writer
}

// reporters is the one table from output format to reporter: every
// document is rendered through it, in the order Formats lists them.
var reporters = []struct {
	format string
	build  func(d Document, o Options) Reporter
}{
	{"table", func(d Document, o Options) Reporter {
		return func(w io.Writer) error { return d.writeTable(w, o.Style) }
	}},
	{"json", func(d Document, _ Options) Reporter { return d.writeJSON }},
	{"ndjson", func(d Document, _ Options) Reporter { return d.writeNDJSON }},
	{"csv", func(d Document, o Options) Reporter {
		side := o.Side
		if side == nil {
			side = io.Discard
		}
		return func(w io.Writer) error { return d.writeCSV(w, side) }
	}},
	{"markdown", func(d Document, _ Options) Reporter {
		return func(w io.Writer) error { return d.writeTable(w, Style{Markdown: true}) }
	}},
}

// Formats every reporting command accepts with -o.
var Formats = func() []string {
	out := make([]string, len(reporters))
	for i, r := range reporters {
		out[i] = r.format
	}
	return out
}()

// NewReporter returns the reporter of d in o.Format.
func NewReporter(d Document, o Options) (Reporter, error) {
	format := o.Format
	if format == "" {
		format = "table"
	}
	for _, r := range reporters {
		if r.format == format {
			return r.build(d, o), nil
		}
	}
	return nil, fmt.Errorf("output format %q is not one of %s", o.Format, strings.Join(Formats, ", "))
}

// Render writes d to w in o.Format.
func Render(w io.Writer, d Document, o Options) error {
	rep, err := NewReporter(d, o)
	if err != nil {
		return err
	}
	return rep(w)
}
