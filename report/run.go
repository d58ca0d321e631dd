package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/netduel/netduel/duel"
)

// protos are the comparison table's columns, in order.
var protos = [2]string{duel.ProtoTCP, duel.ProtoUDP}

const na = "—"

// better says which way a metric improves.
type better int

const (
	noCompare better = iota
	higher
	lower
)

// cell is one protocol's value for a metric.
type cell struct {
	text string
	val  float64
	ok   bool // val is comparable
}

func txt(s string) cell            { return cell{text: s} }
func num(s string, v float64) cell { return cell{text: s, val: finite(v), ok: true} }

// row is one metric across both protocols.
type row struct {
	label string
	dir   better
	cells [2]cell
}

// render formats a row, painting the better of two comparable values.
func (r row) render(st Style) []any {
	out := []any{r.label, r.cells[0].text, r.cells[1].text}
	a, b := r.cells[0], r.cells[1]
	if r.dir == noCompare || !a.ok || !b.ok || a.val == b.val {
		return out
	}
	first := (r.dir == higher) == (a.val > b.val)
	if first {
		out[1], out[2] = st.better(a.text), st.bad(b.text)
	} else {
		out[1], out[2] = st.bad(a.text), st.better(b.text)
	}
	return out
}

// RunTable writes the comparison tables: one per test (one row per metric, one
// column per protocol, the better value highlighted), then the socket lifecycle.
func RunTable(w io.Writer, rep *duel.Report, st Style) error {
	where := "embedded server on " + rep.Server
	if !rep.Embedded {
		where = "server " + rep.Server
	}
	fmt.Fprintf(w, "%s  (%s, %s network stack)\n\n", st.heading("netduel: TCP vs UDP"), where, rep.Network)
	for _, test := range []string{duel.TestThroughput, duel.TestLatency} {
		var pair [2]*duel.Result
		found := false
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Test != test {
				continue
			}
			for j, p := range protos {
				if r.Proto == p {
					pair[j], found = r, true
				}
			}
		}
		if !found {
			continue
		}
		var rows []row
		if test == duel.TestThroughput {
			rows = throughputRows(pair)
		} else {
			rows = latencyRows(pair)
		}
		fmt.Fprintln(w, st.heading(strings.ToUpper(test[:1])+test[1:]+sizeNote(pair)))
		if st.Markdown {
			fmt.Fprintln(w)
		}
		t := st.newTable(w, "metric", "TCP", "UDP")
		for _, r := range rows {
			if err := t.Append(r.render(st)...); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		for _, r := range pair {
			if r != nil && r.Search != nil {
				fmt.Fprintf(w, "%s --bitrate max: %s, the highest rate with loss <= %g%% in %d trials\n",
					strings.ToUpper(r.Proto), searchFound(r), r.Search.MaxLossPct, len(r.Search.Trials))
			}
			if r != nil && r.Error != "" {
				fmt.Fprintf(w, "%s %s: %s\n", strings.ToUpper(r.Proto), r.Test, st.bad("error: "+r.Error))
			}
		}
		fmt.Fprintln(w)
	}
	return lifecycleTable(w, rep, st)
}

func sizeNote(pair [2]*duel.Result) string {
	var parts []string
	for i, r := range pair {
		if r != nil {
			parts = append(parts, fmt.Sprintf("%s %d-byte frames", strings.ToUpper(protos[i]), r.Size))
		}
	}
	return "  (" + strings.Join(parts, ", ") + ")"
}

// each builds a row from a function of one result; nil results get "—".
func each(label string, dir better, pair [2]*duel.Result, f func(r *duel.Result) cell) row {
	rw := row{label: label, dir: dir}
	for i, r := range pair {
		if r == nil {
			rw.cells[i] = txt(na)
			continue
		}
		rw.cells[i] = f(r)
	}
	return rw
}

func countCell(n uint64) cell { return num(Count(n), float64(n)) }

func throughputRows(p [2]*duel.Result) []row {
	return []row{
		each("goodput", higher, p, func(r *duel.Result) cell { return num(Rate(r.GoodputBps), r.GoodputBps) }),
		each("offered rate", noCompare, p, func(r *duel.Result) cell {
			if r.OfferedBps == nil {
				return txt(na + " (paced by TCP)")
			}
			return num(Rate(*r.OfferedBps), *r.OfferedBps)
		}),
		each("frames sent", noCompare, p, func(r *duel.Result) cell { return countCell(r.SentFrames) }),
		each("frames received", noCompare, p, func(r *duel.Result) cell { return countCell(r.ReceivedFrames) }),
		each("lost", lower, p, func(r *duel.Result) cell {
			return num(fmt.Sprintf("%s (%.3f%%)", Count(r.LostFrames), finite(r.LostPct)), r.LostPct)
		}),
		each("reordered", lower, p, func(r *duel.Result) cell { return countCell(r.ReorderedFrames) }),
		each("duplicated", lower, p, func(r *duel.Result) cell { return countCell(r.DuplicateFrames) }),
		each("corrupt", lower, p, func(r *duel.Result) cell { return countCell(r.CorruptFrames) }),
		each("jitter mean / max", noCompare, p, func(r *duel.Result) cell {
			if r.Jitter == nil {
				return txt(na)
			}
			return txt(fmt.Sprintf("%s / %s", Micros(r.Jitter.Mean*1000), Micros(r.Jitter.Max*1000)))
		}),
		each("retransmits (kernel)", noCompare, p, tcpCell(func(t *duel.TCPInfo) string { return Count(uint64(t.Retransmits)) })),
		each("smoothed RTT (kernel)", noCompare, p, tcpCell(func(t *duel.TCPInfo) string { return Micros(t.RTTUS) })),
		each("cwnd / congestion", noCompare, p, tcpCell(func(t *duel.TCPInfo) string {
			return fmt.Sprintf("%d segments / %s", t.Cwnd, t.Congestion)
		})),
	}
}

func tcpCell(f func(t *duel.TCPInfo) string) func(r *duel.Result) cell {
	return func(r *duel.Result) cell {
		if r.TCP == nil {
			if r.Proto == duel.ProtoUDP {
				return txt(na + " (no connection state)")
			}
			return txt("n/a on this OS")
		}
		return txt(f(r.TCP))
	}
}

func latencyRows(p [2]*duel.Result) []row {
	rtt := func(label string, pick func(s rttSummary) float64) row {
		return each(label, lower, p, func(r *duel.Result) cell {
			if r.RTT == nil || r.RTT.Count == 0 && r.ReceivedFrames == 0 {
				return txt(na)
			}
			v := pick(rttSummary{r.RTT.Min, r.RTT.Mean, r.RTT.P50, r.RTT.P90, r.RTT.P99, r.RTT.P999, r.RTT.Max})
			return num(Micros(v), v)
		})
	}
	return []row{
		each("round trips", higher, p, func(r *duel.Result) cell { return countCell(r.ReceivedFrames) }),
		each("timed out (lost)", lower, p, func(r *duel.Result) cell {
			return num(fmt.Sprintf("%s (%.3f%%)", Count(r.LostFrames), finite(r.LostPct)), r.LostPct)
		}),
		each("late replies", lower, p, func(r *duel.Result) cell { return countCell(r.ReorderedFrames) }),
		rtt("RTT min", func(s rttSummary) float64 { return s.min }),
		rtt("RTT p50", func(s rttSummary) float64 { return s.p50 }),
		rtt("RTT p90", func(s rttSummary) float64 { return s.p90 }),
		rtt("RTT p99", func(s rttSummary) float64 { return s.p99 }),
		rtt("RTT p99.9", func(s rttSummary) float64 { return s.p999 }),
		rtt("RTT max", func(s rttSummary) float64 { return s.max }),
		rtt("RTT mean", func(s rttSummary) float64 { return s.mean }),
		each("retransmits (kernel)", noCompare, p, tcpCell(func(t *duel.TCPInfo) string { return Count(uint64(t.Retransmits)) })),
	}
}

type rttSummary struct{ min, mean, p50, p90, p99, p999, max float64 }

// JSON writes the report as a netduel.run/v1 document.
func JSON(w io.Writer, rep *duel.Report) error { return WriteJSON(w, document{Report: rep}) }

func searchFound(r *duel.Result) string {
	if r.RequestedBps == nil || *r.RequestedBps == 0 {
		return "unpaced"
	}
	return Rate(*r.RequestedBps)
}
