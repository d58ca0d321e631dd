package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/netduel/netduel/duel"
)

// protos are the comparison table's columns, in order.
var protos = [2]duel.Proto{duel.ProtoTCP, duel.ProtoUDP}

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
// column per protocol, the better value highlighted; with several links, a pair of
// columns per link), the links' descriptions, then the socket lifecycle. A sweep
// (loss × delay) gets grid tables instead (see SweepTables).
func RunTable(w io.Writer, rep *duel.Report, st Style) error {
	where := fmt.Sprintf("embedded server on %s, %s network stack", rep.Server, rep.Network)
	switch {
	case !rep.Embedded:
		where = fmt.Sprintf("server %s, %s network stack", rep.Server, rep.Network)
	case rep.Network == duel.NetworkLinks:
		where = "embedded server across an emulated link; see the link lines below"
	}
	fmt.Fprintf(w, "%s  (%s)\n\n", st.heading("netduel: TCP vs UDP"), where)
	cells := cellOrder(rep)
	if rep.Sweep {
		if err := SweepTables(w, rep, st); err != nil {
			return err
		}
	} else {
		for _, test := range duel.Tests() {
			if err := testTable(w, rep, cells, test, st); err != nil {
				return err
			}
		}
	}
	linkLines(w, rep, cells, st)
	if err := lifecycleTable(w, rep, st); err != nil {
		return err
	}
	if pc := rep.PortConflicts; pc != nil && len(pc.Experiments) > 0 {
		fmt.Fprintln(w)
		if err := HeldPortTable(w, pc.Port, pc.Experiments, st); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// cellOrder lists the results' cells in order of first appearance.
func cellOrder(rep *duel.Report) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if !seen[r.Cell] {
			seen[r.Cell] = true
			out = append(out, r.Cell)
		}
	}
	return out
}

// pairFor returns the TCP and UDP results of one test in one cell.
func pairFor(rep *duel.Report, cell string, test duel.Test) (pair [2]*duel.Result, found bool) {
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Test != test || r.Cell != cell {
			continue
		}
		for j, p := range protos {
			if r.Proto == p {
				pair[j], found = r, true
			}
		}
	}
	return pair, found
}

func testTable(w io.Writer, rep *duel.Report, cells []string, test duel.Test, st Style) error {
	var pairs [][2]*duel.Result
	var labels []string
	for _, c := range cells {
		if pair, ok := pairFor(rep, c, test); ok {
			pairs, labels = append(pairs, pair), append(labels, c)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	rowsFor := throughputRows
	if test == duel.TestLatency {
		rowsFor = latencyRows
	}
	fmt.Fprintln(w, st.heading(strings.ToUpper(string(test[:1]))+string(test[1:])+sizeNote(pairs[0])))
	if st.Markdown {
		fmt.Fprintln(w)
	}
	header := []any{"metric"}
	var perCell [][]row
	for i, pair := range pairs {
		suffix := ""
		if len(pairs) > 1 && labels[i] != "" {
			suffix = " · " + labels[i]
		}
		header = append(header, "TCP"+suffix, "UDP"+suffix)
		rows := rowsFor(pair)
		if rep.Network == duel.NetworkLinks {
			rows = append(rows, linkRows(pair)...)
		}
		perCell = append(perCell, rows)
	}
	t := st.newTable(w, header...)
	for i := range perCell[0] {
		line := []any{perCell[0][i].label}
		for _, rows := range perCell {
			r := rows[i].render(st)
			line = append(line, r[1], r[2])
		}
		if err := t.Append(line...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for i, pair := range pairs {
		where := ""
		if labels[i] != "" {
			where = " (" + labels[i] + ")"
		}
		for _, r := range pair {
			if r != nil && r.Search != nil {
				if r.Search.Found {
					fmt.Fprintf(w, "%s%s --bitrate max: %s, the highest rate with loss <= %g%% that the receiver kept up with, in %d tests: %s\n",
						strings.ToUpper(string(r.Proto)), where, searchFound(r), r.Search.MaxLossPct, len(r.Search.Trials), r.Search.Tried(FormatRate))
				} else {
					fmt.Fprintf(w, "%s%s --bitrate max: %s\n", strings.ToUpper(string(r.Proto)), where, st.bad(fmt.Sprintf(
						"no rate kept loss <= %g%% with the receiver keeping up; tried %s",
						r.Search.MaxLossPct, r.Search.Tried(FormatRate))))
				}
			}
			if r != nil && r.Error != "" {
				fmt.Fprintf(w, "%s %s%s: %s\n", strings.ToUpper(string(r.Proto)), r.Test, where, st.bad("error: "+r.Error))
			}
			if r != nil {
				if line := corruptionLine(r); line != "" {
					fmt.Fprintf(w, "%s %s%s: %s\n", strings.ToUpper(string(r.Proto)), r.Test, where, line)
				}
				for _, warning := range r.Warnings {
					fmt.Fprintf(w, "%s %s%s: %s\n", strings.ToUpper(string(r.Proto)), r.Test, where, st.bad("warning: "+warning))
				}
			}
		}
	}
	fmt.Fprintln(w)
	return nil
}

// linkLines says what each link was: its emulator, TCP implementation,
// congestion control and netem equivalent.
func linkLines(w io.Writer, rep *duel.Report, cells []string, st Style) {
	printed := false
	for _, c := range cells {
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Cell != c || r.Link == nil {
				continue
			}
			l := r.Link
			name := c
			if name == "" {
				name = "link"
			}
			netem := l.Netem
			if netem == "" {
				netem = "no impairment"
			} else {
				netem = "netem " + netem + " (each direction)"
			}
			tcp := map[string]string{"gvisor": "gVisor's TCP (user space)", "linux": "Linux kernel TCP"}[l.TCPStack]
			if tcp == "" {
				tcp = l.TCPStack + " TCP"
			}
			cc := l.Congestion
			if cc == "" {
				cc = "the OS's congestion control"
			}
			if l.Seed != 0 {
				netem += fmt.Sprintf("; seed %d (--seed %d replays it)", l.Seed, l.Seed)
			}
			fmt.Fprintf(w, "%s: %s emulator, %s, %s; %s\n", name, l.Emulator, tcp, cc, netem)
			if u, d := l.Up.AddedDelay, l.Down.AddedDelay; u != nil || d != nil {
				fmt.Fprintf(w, "  delay the emulator itself added (p50 / p99 / max, beyond the model's): %s\n", addedDelayLine(u, d))
			}
			for j := range rep.Results {
				if o := &rep.Results[j]; o.Cell == c && o.Link != nil {
					for _, line := range linkCheckLines(o, st) {
						fmt.Fprintf(w, "  %s\n", line)
					}
				}
			}
			if l.Note != "" {
				fmt.Fprintf(w, "  note: %s\n", l.Note)
			}
			printed = true
			break
		}
	}
	if printed {
		fmt.Fprintln(w)
	}
}

func sizeNote(pair [2]*duel.Result) string {
	var parts []string
	for i, r := range pair {
		if r != nil {
			parts = append(parts, fmt.Sprintf("%s %d-byte frames", strings.ToUpper(string(protos[i])), r.Size))
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
		each("goodput", higher, p, func(r *duel.Result) cell { return num(FormatRate(r.GoodputBps), r.GoodputBps) }),
		each("requested rate", noCompare, p, func(r *duel.Result) cell {
			switch {
			case r.OfferedBps == nil:
				return txt(na + " (paced by TCP)")
			case r.Search != nil:
				return txt("--bitrate max: " + searchFound(r))
			case r.RequestedBps == nil || *r.RequestedBps == 0:
				return txt("unpaced")
			}
			return num(FormatRate(*r.RequestedBps), *r.RequestedBps)
		}),
		each("offered rate", noCompare, p, func(r *duel.Result) cell {
			if r.OfferedBps == nil {
				return txt(na + " (paced by TCP)")
			}
			if req := r.RequestedBps; req != nil && *req > 0 && *r.OfferedBps < 0.95**req {
				return num(fmt.Sprintf("%s (%.0f%% of requested)", FormatRate(*r.OfferedBps), 100**r.OfferedBps / *req), *r.OfferedBps)
			}
			return num(FormatRate(*r.OfferedBps), *r.OfferedBps)
		}),
		each("frames sent", noCompare, p, func(r *duel.Result) cell { return countCell(r.SentFrames) }),
		each("frames received", noCompare, p, func(r *duel.Result) cell { return countCell(r.ReceivedFrames) }),
		each("lost", lower, p, func(r *duel.Result) cell {
			return num(fmt.Sprintf("%s (%.3f%%)", Count(r.LostFrames), finite(r.LostPct)), r.LostPct)
		}),
		each("of which refused by the sender's stack", noCompare, p, func(r *duel.Result) cell {
			if r.SenderRefused == nil {
				return txt(na)
			}
			return countCell(*r.SenderRefused)
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

// linkRows say what the emulated link did to each test's packets: the link's
// own drops each way, and what the ends' stacks dropped before the link (the
// device queue full) or after it (a socket's buffer full, a bad checksum).
func linkRows(p [2]*duel.Result) []row {
	emulated := func(f func(r *duel.Result) string) func(r *duel.Result) cell {
		return func(r *duel.Result) cell {
			if r.Link == nil || r.Link.Emulator == "none" {
				return txt(na + " (no emulated link)")
			}
			return txt(f(r))
		}
	}
	stacks := func(f func(c *duel.StackCounters) uint64) func(r *duel.Result) string {
		return func(r *duel.Result) string {
			if r.Link.ClientStack == nil || r.Link.ServerStack == nil {
				return na
			}
			return Count(f(r.Link.ClientStack)) + " / " + Count(f(r.Link.ServerStack))
		}
	}
	return []row{
		each("link drops → / ←", noCompare, p, emulated(func(r *duel.Result) string {
			up, down := r.Link.Up, r.Link.Down
			return Count(up.Dropped+up.QueueDrops) + " / " + Count(down.Dropped+down.QueueDrops)
		})),
		each("device drops client / server", noCompare, p, emulated(stacks(func(c *duel.StackCounters) uint64 { return c.DeviceDrops }))),
		each("socket drops client / server", noCompare, p, emulated(stacks(func(c *duel.StackCounters) uint64 { return c.UDPSocketDrops }))),
		each("checksum discards client / server", noCompare, p, emulated(stacks(func(c *duel.StackCounters) uint64 { return c.UDPChecksumErrors }))),
	}
}

type rttSummary struct{ min, mean, p50, p90, p99, p999, max float64 }

func searchFound(r *duel.Result) string {
	if r.RequestedBps == nil || *r.RequestedBps == 0 {
		return "unpaced"
	}
	return FormatRate(*r.RequestedBps)
}

// addedDelayLine shows each direction's emulator lateness.
func addedDelayLine(up, down *duel.AddedDelay) string {
	var parts []string
	for _, x := range []struct {
		dir string
		a   *duel.AddedDelay
	}{{"client→server", up}, {"server→client", down}} {
		if x.a == nil {
			continue
		}
		p := fmt.Sprintf("%s %.0f / %.0f / %.0f µs", x.dir, x.a.P50US, x.a.P99US, x.a.MaxUS)
		if x.a.Over5ms > 0 {
			p += fmt.Sprintf(" (%d packets over 5 ms late)", x.a.Over5ms)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
