//go:build unix

package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Output.

// document is the JSON output.
type document struct {
	Schema    string            `json:"schema"`
	Started   time.Time         `json:"started"`
	Rounds    int               `json:"rounds"`
	DurationS float64           `json:"duration_s"`
	Versions  map[string]string `json:"versions"`
	Metrics   []metricDoc       `json:"metrics"`
	Errors    []string          `json:"errors,omitempty"`
	// Steal is the hypervisor's steal time during the steps (Linux; absent
	// elsewhere).
	Steal *stealLog `json:"steal,omitempty"`
	// Placement is the CPUs' placement around the busy-poll steps (Linux,
	// 2 CPUs or more; absent elsewhere; see runPlaced).
	Placement *placementLog `json:"placement,omitempty"`
}

type metricDoc struct {
	*Metric
	NetduelMedian    *float64 `json:"netduel_median"`
	CompetitorMedian *float64 `json:"competitor_median"`
	Ratio            *float64 `json:"ratio"` // netduel / competitor; null without samples
	Pass             *bool    `json:"pass"`
}

func (c *comparison) document() document {
	d := document{Schema: Schema, Started: c.started, Rounds: c.o.rounds, DurationS: c.o.duration.Seconds(), Versions: c.versions, Errors: c.errors, Steal: c.steal}
	if c.placement != nil && len(c.placement.Steps) > 0 {
		c.placement.classify()
		d.Placement = c.placement
	}
	for _, m := range c.metrics {
		md := metricDoc{Metric: m}
		if v, ok := median(m.Netduel); ok {
			md.NetduelMedian = &v
		}
		if v, ok := median(m.Competitor); ok {
			md.CompetitorMedian = &v
		}
		if r, ok := m.ratio(); ok {
			md.Ratio = &r
		}
		if p, ok := m.pass(); ok {
			md.Pass = &p
		}
		d.Metrics = append(d.Metrics, md)
	}
	return d
}

// formatValue prints a median in its unit.
func formatValue(v float64, unit string) string {
	switch unit {
	case "bits/s":
		return fmt.Sprintf("%.2f Gbit/s", v/1e9)
	case "us":
		return fmt.Sprintf("%.1f us", v)
	case "s/GB":
		return fmt.Sprintf("%.2f s/GB", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// lossText is ", 1.2% loss" from the median of loss samples, or "".
func lossText(samples []float64) string {
	l, ok := median(samples)
	if !ok {
		return ""
	}
	return fmt.Sprintf(", %.3g%% loss", l)
}

// rows returns the table: one row per metric.
func (c *comparison) rows() [][]string {
	var rows [][]string
	for _, m := range c.metrics {
		if m.absolute() {
			rows = append(rows, absoluteRow(m))
			continue
		}
		ndS, compS, ratioS, result := "-", "-", "-", "no data"
		if v, ok := median(m.Netduel); ok {
			ndS = formatValue(v, m.Unit) + lossText(m.NetduelLossPct) + cpuText(m.NetduelCPU)
		}
		if v, ok := median(m.Competitor); ok {
			compS = formatValue(v, m.Unit) + lossText(m.CompetitorLossPct) + cpuText(m.CompetitorCPU)
		}
		if r, ok := m.ratio(); ok {
			ratioS = fmt.Sprintf("%.2fx", r)
			result = "miss"
			if pass, _ := m.pass(); pass {
				result = "pass"
			} else if meets(r, m.TargetOp, m.Target) {
				result = fmt.Sprintf("miss: loss > %g%%", m.LossLimitPct)
			}
		}
		n := fmt.Sprintf("%d/%d", len(m.Netduel), len(m.Competitor))
		rows = append(rows, []string{m.Name, ndS, m.CompetitorName, compS, ratioS, fmt.Sprintf("%s %.1fx", m.TargetOp, m.Target), result, n})
	}
	return rows
}

// absoluteRow is the row of a metric with a target value and no competitor.
func absoluteRow(m *Metric) []string {
	ndS, result := "-", "no data"
	if v, ok := median(m.Netduel); ok {
		ndS = formatValue(v, m.Unit)
		result = "miss"
		if pass, _ := m.pass(); pass {
			result = "pass"
		}
	}
	target := m.TargetOp + " " + formatValue(m.TargetValue, m.Unit)
	return []string{m.Name, ndS, "-", "-", "-", target, result, strconv.Itoa(len(m.Netduel))}
}

func (c *comparison) renderTable(w io.Writer) error {
	fmt.Fprintf(w, "netduel vs iperf3 and sockperf on 127.0.0.1: medians of %d round(s) of %v each\n", c.o.rounds, c.o.duration)
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header("metric", "netduel", "vs", "competitor", "ratio", "target", "result", "samples")
	for _, r := range c.rows() {
		row := make([]any, len(r))
		for i, v := range r {
			row[i] = v
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "ratio = netduel / competitor (medians); sockperf's half round trips are doubled; netduel's round trips are recorded to the nanosecond; loss is the median of the rounds'.")
	fmt.Fprintln(w, "CPU per GB: user+system seconds of client (rusage) and server (/proc/PID/stat) per 10^9 bytes received; port check: wall time, start to exit.")
	var notes []string
	for _, m := range c.metrics {
		for _, n := range m.Notes {
			notes = append(notes, m.Name+": "+n)
		}
	}
	notes = append(notes, c.errors...)
	if s := c.steal.summary(); s != "" {
		notes = append(notes, s)
	}
	if s := c.placement.summary(); s != "" {
		notes = append(notes, s)
	}
	for _, n := range notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if len(c.versions) > 0 {
		keys := make([]string, 0, len(c.versions))
		for k := range c.versions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+" "+strings.TrimPrefix(c.versions[k], k+" "))
		}
		fmt.Fprintln(w, "versions: "+strings.Join(parts, "; "))
	}
	return nil
}
