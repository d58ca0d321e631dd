// Package report renders netduel's results for people and machines: tables
// (tablewriter, with colour from fatih/color when the output is a terminal) and
// JSON. It knows nothing of how results were measured; engine packages know
// nothing of it.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/fatih/color"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Style says how tables look.
type Style struct {
	// Color turns on ANSI colour (better values in green, worse in yellow). Callers
	// decide: on for a terminal, off when piped or when NO_COLOR is set.
	Color bool
	// Markdown renders GitHub-flavoured Markdown tables and headings instead of
	// box-drawn tables (for CI comments and job summaries). It implies no colour.
	Markdown bool
}

// newTable returns a table with netduel's look: a header row kept as written.
func (s Style) newTable(w io.Writer, header ...any) *tablewriter.Table {
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	}
	if s.Markdown {
		esc := tw.CellFilter{Global: escapeMarkdownCells}
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()),
			tablewriter.WithHeaderFilter(esc), tablewriter.WithRowFilter(esc))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header(header...)
	return t
}

// escapeMarkdownCells escapes the pipes in a Markdown table's cells ("TCP x |
// UDP y"): GitHub's tables split a row at every bare |, shifting the columns.
func escapeMarkdownCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return out
}

// paint colours s when the style allows it.
func (s Style) paint(attr color.Attribute, str string) string {
	if !s.Color || s.Markdown {
		return str
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(str)
}

func (s Style) good(str string) string { return s.paint(color.FgGreen, str) }

const colorRed = color.FgRed

func (s Style) bad(str string) string { return s.paint(color.FgYellow, str) }

// heading formats a section title: bold on a terminal, a Markdown heading in Markdown.
func (s Style) heading(str string) string {
	if s.Markdown {
		return "### " + str
	}
	return s.paint(color.Bold, str)
}

// better marks the better of two values in Markdown, where there is no colour.
func (s Style) better(str string) string {
	if s.Markdown {
		return "**" + str + "**"
	}
	return s.good(str)
}

// WriteJSON writes v as indented JSON with a trailing newline. Floats that are
// NaN or Inf (which encoding/json refuses) must never reach it: results are
// sanitised at their source; this is the last check.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// finite replaces NaN and ±Inf by 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// Rate formats bits per second with an SI prefix: "941 Mbit/s".
func Rate(bps float64) string {
	bps = finite(bps)
	units := []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"}
	i := 0
	for bps >= 1000 && i < len(units)-1 {
		bps /= 1000
		i++
	}
	return trimNum(bps) + " " + units[i]
}

// trimNum prints 3 significant digits: 941, 94.1, 9.41.
func trimNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// Micros formats a duration given in microseconds: "87.3 µs", "12.4 ms", "1.20 s".
func Micros(v float64) string {
	v = finite(v)
	switch {
	case v >= 1e6:
		return trimNum(v/1e6) + " s"
	case v >= 1e3:
		return trimNum(v/1e3) + " ms"
	default:
		return trimNum(v) + " µs"
	}
}

// Count formats a count with thousands separators: "1,234,567".
func Count(n uint64) string {
	s := fmt.Sprintf("%d", n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
