package report

import (
	"fmt"
	"io"
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

// section writes a section's heading, and in Markdown the blank line a table
// needs after it.
func (s Style) section(w io.Writer, title string) {
	fmt.Fprintln(w, s.heading(title))
	if s.Markdown {
		fmt.Fprintln(w)
	}
}

// better marks the better of two values in Markdown, where there is no colour.
func (s Style) better(str string) string {
	if s.Markdown {
		return "**" + str + "**"
	}
	return s.good(str)
}
