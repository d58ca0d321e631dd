package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/netduel/netduel/report"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "re-render saved results in any format, or compare two runs",
		UsageText: "netduel report [-o FORMAT] [--tolerance 10%] [--assert EXPR]... FILE.json [NEW.json]",
		Description: "With one file, renders it again (e.g. as markdown for a CI summary). With two, compares " +
			"NEW against FILE as --baseline does: old, new and change per metric, exit 1 when a metric " +
			"got worse by more than --tolerance.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "output `FORMAT`: table, json, ndjson, csv or markdown"},
			&cli.StringFlag{Name: "tolerance", Value: "10%", Usage: "with two files: relative change a metric may get worse by, in `PERCENT`"},
			&cli.StringSliceFlag{Name: "assert", Usage: "pass/fail rule `EXPR` checked against the (newer) file, as in 'netduel run --assert'"},
			&cli.BoolFlag{Name: "intervals", Usage: "show the recorded intervals in table and markdown output"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colour in tables"},
			&cli.StringFlag{Name: "plot", Usage: "draw the (newer) file's charts into `FILE` (.svg, .png or .html)"},
		},
		Action: reportAction,
	}
}

func reportAction(c *cli.Context) error {
	if err := refuseEmpty(c, c.Command.Flags, nil); err != nil {
		return err
	}
	n := c.Args().Len()
	if n < 1 || n > 2 {
		return usageErrorf("report takes one or two JSON files (FILE.json [NEW.json]), got %d", n)
	}
	format := c.String("output")
	if err := checkOutput(format, report.Formats...); err != nil {
		return err
	}
	tol, err := parseTolerance(c.String("tolerance"))
	if err != nil {
		return err
	}
	oldFile := c.Args().Get(0)
	rep, err := report.ReadReport(oldFile)
	if err != nil {
		return usageErrorf("%v", err)
	}
	x := report.Extras{ShowIntervals: c.Bool("intervals")}
	if n == 2 {
		newFile := c.Args().Get(1)
		cur, err := report.ReadReport(newFile)
		if err != nil {
			return usageErrorf("%v", err)
		}
		x.Baseline = report.Compare(rep, cur, oldFile, tol)
		rep = cur
	}
	for _, expr := range c.StringSlice("assert") {
		a, err := report.ParseAssertion(expr)
		if err != nil {
			return usageErrorf("%v", err)
		}
		x.Checks = append(x.Checks, report.Evaluate([]report.Assertion{a}, rep.Results)...)
	}
	if p := c.String("plot"); p != "" {
		if err := checkPlotFile(p); err != nil {
			return err
		}
		if err := plotFile(p, rep); err != nil {
			return runtimeErrorf("--plot %s: %v", p, err)
		}
	}
	st := report.Style{Color: format == "table" && !c.Bool("no-color") && os.Getenv("NO_COLOR") == "" && isTerminal(c.App.Writer)}
	if err := report.Render(c.App.Writer, report.RunDoc{Report: rep, Extras: x}, report.Options{Format: format, Style: st, Side: c.App.ErrWriter}); err != nil {
		return runtimeErrorf("writing the report: %v", err)
	}
	return verdict(x)
}
