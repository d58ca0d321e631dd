package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/netduel/netduel/duel"
)

// baselineMetrics are the fields a baseline compares, each with the smallest
// absolute difference that counts (so that 0.00% → 0.01% loss, or 11 µs → 12 µs,
// is not a regression by itself).
var baselineMetrics = []struct {
	field string
	floor float64
}{
	{"goodput_bps", 0},
	{"lost_pct", 0.1},
	{"rtt_us.p50", 2},
	{"rtt_us.p99", 5},
	{"jitter_ms.mean", 0.01},
}

// Comparison is one metric of one result, old against new.
type Comparison struct {
	Result    string  `json:"result"` // "udp throughput"
	Metric    string  `json:"metric"` // a field path, e.g. "rtt_us.p99"
	Old       float64 `json:"old"`
	New       float64 `json:"new"`
	ChangePct float64 `json:"change_pct"` // (new-old)/old × 100; 0 when old is 0
	Worse     bool    `json:"worse"`      // worse by more than the tolerance
	Better    bool    `json:"better"`     // better by more than the tolerance
}

// Baseline is the outcome of comparing a run with a saved one.
type Baseline struct {
	File         string       `json:"file"`
	TolerancePct float64      `json:"tolerance_pct"`
	Comparisons  []Comparison `json:"comparisons"`
	// Problems are the results that could not be compared: one in either run
	// without its (cell, proto, test) in the other, or measured across a
	// different link or with another frame size. Each is one line, and each
	// fails the comparison.
	Problems []string `json:"problems,omitempty"`
}

// Regressions counts the metrics that got worse by more than the tolerance.
func (b *Baseline) Regressions() int {
	if b == nil {
		return 0
	}
	n := 0
	for _, c := range b.Comparisons {
		if c.Worse {
			n++
		}
	}
	return n
}

// Compare compares every result of cur with the result of the same cell,
// protocol and test in old. tolerancePct is the relative change allowed, in
// percent. A result missing from either run, or measured across a different
// link, or that never ran or failed in either, is a Problem, not a
// comparison; so is a result whose server's count is missing in either
// (duel.ClientOnly): its server-counted figures cannot be compared.
func Compare(old, cur *duel.Report, file string, tolerancePct float64) *Baseline {
	b := &Baseline{File: file, TolerancePct: tolerancePct, Comparisons: []Comparison{}}
	for i := range cur.Results {
		nr := &cur.Results[i]
		or := findResult(old, nr)
		if or == nil {
			b.Problems = append(b.Problems, fmt.Sprintf("%s: not in the baseline", resultName(nr)))
			continue
		}
		if !nr.Ran() || !or.Ran() {
			which, failed := "this run", nr.Error
			if nr.Ran() {
				which, failed = "the baseline", or.Error
			}
			b.Problems = append(b.Problems, fmt.Sprintf("%s: never ran in %s (%s), so it is not compared", resultName(nr), which, failed))
			continue
		}
		if nr.Error != "" || or.Error != "" {
			// A test that failed midway has figures of a part of its
			// run: no measure of the same thing as a whole run's.
			which, failed := "this run", nr.Error
			if nr.Error == "" {
				which, failed = "the baseline", or.Error
			}
			b.Problems = append(b.Problems, fmt.Sprintf("%s: failed in %s (%s), so it is not compared", resultName(nr), which, failed))
			continue
		}
		if ol, nl := linkKey(or.Link), linkKey(nr.Link); ol != nl {
			b.Problems = append(b.Problems, fmt.Sprintf("%s: the link changed: baseline %s, now %s", resultName(nr), ol, nl))
			continue
		}
		if or.Size != nr.Size {
			// 200-byte frames against 128 KiB ones read as a 99% regression.
			b.Problems = append(b.Problems, fmt.Sprintf("%s: the frame size changed: baseline %d bytes, now %d (--size)", resultName(nr), or.Size, nr.Size))
			continue
		}
		uncounted := 0 // figures left out because one side lacks its server's count
		for _, m := range baselineMetrics {
			f, _ := lookupField(m.field)
			if !f.valid(nr.Kind()) {
				continue
			}
			ov, ok1 := f.get(or)
			nv, ok2 := f.get(nr)
			if !ok1 || !ok2 {
				if !or.Counted() || !nr.Counted() {
					uncounted++
				}
				continue
			}
			c := Comparison{Result: resultName(nr), Metric: m.field, Old: ov, New: nv}
			if ov != 0 {
				c.ChangePct = finite((nv - ov) / math.Abs(ov) * 100)
			}
			beyond := math.Abs(nv-ov) > m.floor && (ov == 0 || math.Abs(c.ChangePct) > tolerancePct)
			if beyond && nv != ov {
				up := nv > ov
				c.Worse = (f.dir == higher) != up
				c.Better = !c.Worse
			}
			b.Comparisons = append(b.Comparisons, c)
		}
		if uncounted > 0 {
			which, why := "this run", nr.Error
			if nr.Counted() {
				which, why = "the baseline", or.Error
			}
			if why == "" {
				why = "no report from the server"
			}
			b.Problems = append(b.Problems, fmt.Sprintf("%s: not counted in %s (%s), so its %d server-counted figures are not compared", resultName(nr), which, why, uncounted))
		}
	}
	for i := range old.Results {
		if findResult(cur, &old.Results[i]) == nil {
			b.Problems = append(b.Problems, fmt.Sprintf("%s: in the baseline, missing from this run", resultName(&old.Results[i])))
		}
	}
	return b
}

// resultName names a result as a baseline line does: "udp throughput", with
// " @ CELL" when it belongs to a cell.
func resultName(r *duel.Result) string {
	if r.Cell == "" {
		return duel.KindName(r.Proto, r.Test)
	}
	return duel.KindName(r.Proto, r.Test) + " @ " + r.Cell
}

// findResult returns rep's result of the same cell, protocol and test as r.
func findResult(rep *duel.Report, r *duel.Result) *duel.Result {
	for i := range rep.Results {
		o := &rep.Results[i]
		if o.SameTest(r) {
			return o
		}
	}
	return nil
}

// linkKey describes the link configuration a result was measured across, for
// comparison: what was asked of the link, not its counters and not its seed
// (the same link with other random decisions is the same link).
func linkKey(l *duel.LinkInfo) string {
	if l == nil {
		return "no emulated link"
	}
	with := func(s string) string { // an optional word, after a space
		if s == "" {
			return ""
		}
		return " " + s
	}
	key := fmt.Sprintf("%s emulator, %s TCP, %s (loss %g%%%s, delay %gms jitter %gms%s, reorder %g%% gap %d, duplicate %g%%, corrupt %g%%, rate %g bit/s, queue %d; netem %q",
		l.Emulator, l.TCPStack, l.Congestion, l.Loss, with(l.LossModel), l.DelayMs, l.JitterMs, with(l.Distribution),
		l.Reorder, l.ReorderGap, l.Duplicate, l.Corrupt, l.RateBps, l.Queue, l.Netem)
	// The netem arguments hold what the fields do not (rate overheads,
	// slot, ecn); a delivery trace is netduel's own.
	if l.Forwarder == "polling" { // blocking, the default, stays unsaid: older files lack the field
		key += "; polling forwarder"
	}
	if t := l.Trace; t != nil {
		key += fmt.Sprintf("; trace %s, %d opportunities in %g ms", t.File, t.Opportunities, t.PeriodMs)
	}
	return key + ")"
}

// baselineTable writes old, new and change per metric, better in green and worse
// (beyond the tolerance) in red.
func baselineTable(w io.Writer, b *Baseline, st Style) error {
	if b == nil {
		return nil
	}
	blankLine(w)
	st.section(w, fmt.Sprintf("Against baseline %s (tolerance %s%%)", b.File, strconv.FormatFloat(b.TolerancePct, 'f', -1, 64)))
	for _, p := range b.Problems {
		if st.Markdown { // a list: lines of their own, and none taken for the table's
			fmt.Fprintln(w, "- **FAIL** "+p)
		} else {
			fmt.Fprintln(w, st.paint(colorRed, "FAIL")+" "+p)
		}
	}
	if st.Markdown && len(b.Problems) > 0 {
		fmt.Fprintln(w)
	}
	if len(b.Comparisons) == 0 {
		fmt.Fprintln(w, "no result in common with the baseline")
		return nil
	}
	t := st.newTable(w, "result", "metric", "old", "new", "change")
	for _, c := range b.Comparisons {
		change := fmt.Sprintf("%+.1f%%", c.ChangePct)
		if c.Old == 0 && c.New != 0 {
			change = "was 0"
		}
		switch {
		case c.Worse:
			change = st.paint(colorRed, change+" worse")
		case c.Better:
			change = st.better(change + " better")
		}
		if err := t.Append(c.Result, c.Metric, metricText(c.Metric, c.Old), metricText(c.Metric, c.New), change); err != nil {
			return err
		}
	}
	return t.Render()
}

func metricText(metric string, v float64) string {
	f, _ := lookupField(metric)
	switch f.unit {
	case unitBps:
		return FormatRate(v)
	case unitUS:
		return Micros(v)
	case unitMS:
		return Micros(v * 1000)
	case unitPct:
		return fmt.Sprintf("%.3f%%", finite(v))
	}
	return strconv.FormatFloat(finite(v), 'g', 6, 64)
}

// ReadReport reads a saved netduel.run/v1 JSON document.
func ReadReport(path string) (*duel.Report, error) {
	data, err := readBounded(path, MaxReportBytes)
	if err != nil {
		return nil, err
	}
	var rep duel.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%s is not a netduel JSON report: %w", path, err)
	}
	if rep.Schema != duel.Schema {
		return nil, fmt.Errorf("%s has schema %q, want %q (save one with 'netduel run -o json > FILE')", path, rep.Schema, duel.Schema)
	}
	if err := checkSaved(&rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rep, nil
}
