package report

import (
	"fmt"
	"slices"

	"github.com/netduel/netduel/duel"
)

// The rows of the comparison tables: one metric across the protocols.

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

// row is one metric across the protocols: a cell per column.
type row struct {
	label string
	dir   better
	cells []cell
	// needs is the figure the row shows (0: every kind's): a table
	// whose results all lack it leaves the row out (see only).
	needs    duel.Figure
	datagram bool                    // see datagrams
	when     func(*duel.Result) bool // see onlyWhen
}

// only marks a row as showing figure f, which not every kind measures: a
// table with no result of a kind that has it (a UDP-only run's kernel TCP
// rows) leaves the row out.
func only(f duel.Figure, r row) row {
	r.needs = f
	return r
}

// datagrams marks a row as showing what only a datagram (connectionless)
// test has: a table of connection-oriented results alone leaves it out.
func datagrams(r row) row {
	r.datagram = true
	return r
}

// optCountCell shows a count only some results have ("—" where absent).
func optCountCell(f func(r *duel.Result) *uint64) func(r *duel.Result) cell {
	return func(r *duel.Result) cell {
		if v := f(r); v != nil {
			return countCell(*v)
		}
		return txt(na)
	}
}

// onlyWhen marks a row as shown only where one of the results has what it
// shows (when).
func onlyWhen(when func(*duel.Result) bool, r row) row {
	r.when = when
	return r
}

// wanted reports whether a row belongs in a table of these results: it
// shows a figure one of them measures.
func (r row) wanted(results []*duel.Result) bool {
	return slices.ContainsFunc(results, func(x *duel.Result) bool {
		return x != nil && (r.needs == 0 || has(x, r.needs)) && (!r.datagram || !has(x, duel.FigConnection)) && (r.when == nil || r.when(x))
	})
}

// render formats a row, painting the better of comparable values: the best
// in green (bold in Markdown), the others in yellow, when every value is
// comparable and they are not all equal.
func (r row) render(st Style) []any {
	out := []any{r.label}
	for _, c := range r.cells {
		out = append(out, c.text)
	}
	if r.dir == noCompare || !comparable(r.cells) {
		return out
	}
	best := r.cells[0].val
	for _, c := range r.cells[1:] {
		if (r.dir == higher) == (c.val > best) {
			best = c.val
		}
	}
	for i, c := range r.cells {
		if c.val == best {
			out[i+1] = st.better(c.text)
		} else {
			out[i+1] = st.bad(c.text)
		}
	}
	return out
}

// comparable reports whether every cell has a value and not all are equal.
func comparable(cs []cell) bool {
	differ := false
	for _, c := range cs {
		if !c.ok {
			return false
		}
		differ = differ || c.val != cs[0].val
	}
	return differ
}

// each builds a row from a function of one result; nil results get "—".
func each(label string, dir better, pair []*duel.Result, f func(r *duel.Result) cell) row {
	rw := row{label: label, dir: dir, cells: make([]cell, len(pair))}
	for i, r := range pair {
		switch {
		case r == nil:
			rw.cells[i] = txt(na)
		case !r.Ran():
			rw.cells[i] = txt(na + " (not run)")
		default:
			rw.cells[i] = f(r)
		}
	}
	return rw
}

func countCell(n uint64) cell { return num(Count(n), float64(n)) }

// counted shows a figure of the receiver's count, or that there is none (the
// test was interrupted, or the server's report was lost or refused): not a
// zero but unknown.
func counted(f func(r *duel.Result) cell) func(r *duel.Result) cell {
	return func(r *duel.Result) cell {
		if !r.Counted() {
			return txt(na + " (not counted)")
		}
		return f(r)
	}
}

func throughputRows(p []*duel.Result) []row {
	return []row{
		each("goodput", higher, p, counted(func(r *duel.Result) cell { return num(FormatRate(r.GoodputBps), r.GoodputBps) })),
		only(duel.FigPacing, each("requested rate", noCompare, p, func(r *duel.Result) cell {
			switch {
			case r.OfferedBps == nil:
				return txt(na + " (paced by TCP)")
			case r.Search != nil:
				return txt("--bitrate max: " + searchFound(r))
			case r.RequestedBps == nil || *r.RequestedBps == 0:
				return txt("unpaced")
			}
			return num(FormatRate(*r.RequestedBps), *r.RequestedBps)
		})),
		only(duel.FigPacing, each("offered rate", noCompare, p, func(r *duel.Result) cell {
			if r.OfferedBps == nil {
				return txt(na + " (paced by TCP)")
			}
			if req := r.RequestedBps; req != nil && *req > 0 && (*r.OfferedBps < 0.95**req || *r.OfferedBps > 1.05**req) {
				// Over it: a rate so low that the first frame, sent at
				// once, is more than the test's share (1k with 1400-byte
				// frames: one frame is 11.2 kbit).
				return num(fmt.Sprintf("%s (%.0f%% of requested)", FormatRate(*r.OfferedBps), 100**r.OfferedBps / *req), *r.OfferedBps)
			}
			return num(FormatRate(*r.OfferedBps), *r.OfferedBps)
		})),
		each("frames sent", noCompare, p, func(r *duel.Result) cell { return countCell(r.SentFrames) }),
		each("frames received", noCompare, p, counted(func(r *duel.Result) cell { return countCell(r.ReceivedFrames) })),
		each("lost", lower, p, counted(func(r *duel.Result) cell {
			return num(fmt.Sprintf("%s (%.3f%%)", Count(r.LostFrames), finite(r.LostPct)), r.LostPct)
		})),
		only(duel.FigPacing, each("of which refused by the sender's stack", noCompare, p,
			optCountCell(func(r *duel.Result) *uint64 { return r.SenderRefused }))),
		onlyWhen(func(r *duel.Result) bool { return r.LostBeforeLink != nil },
			each("of which never reached the link", noCompare, p,
				optCountCell(func(r *duel.Result) *uint64 { return r.LostBeforeLink }))),
		onlyWhen(func(r *duel.Result) bool { return r.LostInLink != nil && *r.LostInLink > 0 },
			each("of which still held by the link", noCompare, p,
				optCountCell(func(r *duel.Result) *uint64 { return r.LostInLink }))),
		each("reordered", lower, p, counted(func(r *duel.Result) cell { return countCell(r.ReorderedFrames) })),
		each("duplicated", lower, p, counted(func(r *duel.Result) cell { return countCell(r.DuplicateFrames) })),
		each("corrupt", lower, p, counted(func(r *duel.Result) cell { return countCell(r.CorruptFrames) })),
		only(duel.FigJitter, each("jitter mean / max", noCompare, p, func(r *duel.Result) cell {
			switch {
			case r.Jitter != nil:
				return txt(fmt.Sprintf("%s / %s", Micros(r.Jitter.MeanMs*1000), Micros(r.Jitter.MaxMs*1000)))
			case has(r, duel.FigJitter) && !r.Counted():
				return txt(na + " (not counted)")
			case has(r, duel.FigJitter) && r.ReceivedFrames < 2:
				return txt(na + " (needs two frames)")
			}
			return txt(na)
		})),
		only(duel.FigTCPInfo, each("retransmits (kernel)", noCompare, p, tcpCell(func(t *duel.TCPInfo) string { return Count(uint64(t.Retransmits)) }))),
		only(duel.FigTCPInfo, each("smoothed RTT (kernel)", noCompare, p, tcpCell(func(t *duel.TCPInfo) string { return Micros(t.RTTUS) }))),
		only(duel.FigTCPInfo, each("cwnd / congestion", noCompare, p, tcpCell(func(t *duel.TCPInfo) string {
			return fmt.Sprintf("%d segments / %s", t.Cwnd, t.Congestion)
		}))),
	}
}

func tcpCell(f func(t *duel.TCPInfo) string) func(r *duel.Result) cell {
	return func(r *duel.Result) cell {
		if r.TCP == nil {
			switch {
			case !has(r, duel.FigTCPInfo):
				return txt(na + " (no connection state)")
			case r.Error != "":
				return txt("not measured")
			}
			return txt("n/a on this OS")
		}
		return txt(f(r.TCP))
	}
}

func latencyRows(p []*duel.Result) []row {
	rtt := func(label string, pick func(s rttSummary) float64) row {
		return each(label, lower, p, func(r *duel.Result) cell {
			if r.RTT == nil || r.RTT.Count == 0 && r.ReceivedFrames == 0 {
				return txt(na)
			}
			v := pick(rttSummary{r.RTT.Min, r.RTT.Mean, r.RTT.P50, r.RTT.P90, r.RTT.P99, r.RTT.P999, r.RTT.Max})
			return num(Micros(v), v)
		})
	}
	rows := []row{
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
		only(duel.FigTCPInfo, each("retransmits (kernel)", noCompare, p, tcpCell(func(t *duel.TCPInfo) string { return Count(uint64(t.Retransmits)) }))),
	}
	if slices.ContainsFunc(p, func(r *duel.Result) bool { return r != nil && r.Wait != nil }) {
		rows = append(rows, each("waits client / server", noCompare, p, waitCell))
	}
	return rows
}

// waitCell says how each end of a latency test waited for its messages
// (what its round trips include): blocking, busy-poll or netpoller.
func waitCell(r *duel.Result) cell {
	if r.Wait == nil {
		return txt(na)
	}
	name := func(s string) string {
		if s == "" {
			return "not known"
		}
		return s
	}
	return txt(name(r.Wait.Client) + " / " + name(r.Wait.Server))
}

// linkRows say what the emulated link did to each test's packets: the link's
// own drops each way, and what the ends' stacks dropped before the link (the
// device queue full) or after it (a socket's buffer full, a bad checksum).
func linkRows(p []*duel.Result) []row {
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
		// UDP's counters: a table of TCP results alone leaves them out.
		datagrams(each("socket drops client / server", noCompare, p, emulated(stacks(func(c *duel.StackCounters) uint64 { return c.UDPSocketDrops })))),
		datagrams(each("checksum discards client / server", noCompare, p, emulated(stacks(func(c *duel.StackCounters) uint64 { return c.UDPChecksumErrors })))),
	}
}

// rowSets are the comparison tables' row sets, keyed by the figure that
// chooses them: the first whose figure a test's kinds measure; the last is
// the default.
var rowSets = []struct {
	fig  duel.Figure
	rows func(pair []*duel.Result) []row
}{
	{duel.FigRoundTrips, latencyRows},
	{duel.FigStream, throughputRows},
}

// rowsFor returns the rows of a test's table for its results, one per column.
func rowsFor(pair []*duel.Result) []row {
	var figs duel.Figure
	for _, r := range pair {
		if k := kindOf(r); k != nil {
			figs |= k.Figures
		}
	}
	for _, s := range rowSets {
		if figs&s.fig != 0 {
			return s.rows(pair)
		}
	}
	return rowSets[len(rowSets)-1].rows(pair)
}

type rttSummary struct{ min, mean, p50, p90, p99, p999, max float64 }
