package report

import (
	"io"

	"github.com/netduel/netduel/duel"
)

// lifeStep is one row of the socket lifecycle table: how a result shows a
// step, by whether its kind measures a figure (a connection, round trips).
type lifeStep struct {
	label string
	by    duel.Figure
	// with shows the step for a kind that has by (every kind when by is 0);
	// without for one that has not.
	with, without func(r *duel.Result, st Style) string
}

// lifeSteps are the lifecycle table's rows, in order.
var lifeSteps = []lifeStep{
	{label: "socket() (client)", with: timing(func(l *duel.Lifecycle) *float64 { return l.SocketUS }, "")},
	{label: "bind() (server)", with: timing(func(l *duel.Lifecycle) *float64 { return l.BindUS }, "")},
	{"listen() (server)", duel.FigConnection,
		timing(func(l *duel.Lifecycle) *float64 { return l.ListenUS }, ""), fixed(na + " none: connectionless")},
	{"connect() (client)", duel.FigConnection,
		timing(func(l *duel.Lifecycle) *float64 { return l.ConnectUS }, " — 3-way handshake (1 round trip)"),
		timing(func(l *duel.Lifecycle) *float64 { return l.ConnectUS }, " — no packet: only sets the default peer")},
	{"accept() (server)", duel.FigConnection, func(r *duel.Result, _ Style) string {
		if r.Lifecycle.AcceptUS == nil {
			return "before any data (" + untimed(r) + ")"
		}
		return opt(r.Lifecycle.AcceptUS, " after connect began; before any data")
	}, fixed(na + " none: the server learns of the client at its first datagram")},
	{"first byte (server)", duel.FigConnection, firstByte(" after connect() began (handshake + first data)"),
		firstByte(" after connect() began (the first datagram)")},
	{"first reply (client)", duel.FigRoundTrips,
		timing(func(l *duel.Lifecycle) *float64 { return l.FirstReplyUS }, " (the first round trip)"),
		fixed(na + " (a throughput test has no replies)")},
	{label: "close() (client)", with: timing(func(l *duel.Lifecycle) *float64 { return l.CloseUS }, "")},
	{"server told of close", duel.FigConnection, peerSawClose, fixed("never: no FIN in UDP")},
}

// show returns how r shows the step.
func (s lifeStep) show(r *duel.Result, st Style) string {
	if s.without != nil && !has(r, s.by) {
		return s.without(r, st)
	}
	return s.with(r, st)
}

func timing(pick func(l *duel.Lifecycle) *float64, note string) func(*duel.Result, Style) string {
	return func(r *duel.Result, _ Style) string { return opt(pick(&r.Lifecycle), note) }
}

func fixed(text string) func(*duel.Result, Style) string {
	return func(*duel.Result, Style) string { return text }
}

// firstByte shows the first byte's time: from connect() starting to the
// server reading the data socket's first byte.
func firstByte(note string) func(*duel.Result, Style) string {
	return func(r *duel.Result, _ Style) string {
		if r.Lifecycle.FirstByteUS == nil {
			return "not measured (" + untimed(r) + ")"
		}
		return opt(r.Lifecycle.FirstByteUS, note)
	}
}

// untimed says why a server-side step has no time: the server is remote
// (its clock is not the client's), or the test failed before the server
// timed it or before its report came back.
func untimed(r *duel.Result) string {
	if r.Error != "" {
		return "the test failed: no time from the server"
	}
	return "server remote: not timed"
}

func peerSawClose(r *duel.Result, st Style) string {
	l := r.Lifecycle
	switch {
	case l.PeerSawClose && l.PeerSawCloseUS != nil:
		return "yes (FIN) after " + Micros(*l.PeerSawCloseUS) + ": the FIN's trip"
	case l.PeerSawClose:
		return "yes (FIN); not timed"
	case !r.Counted():
		return "not known (no report from the server)"
	}
	return st.bad("no FIN seen")
}

// lifecycleResults returns, per protocol, the result whose lifecycle the table
// shows: from the latency test where there is one (its data socket does the
// least besides), else from the throughput test, on the first cell (link); a
// test that never ran has none.
func lifecycleResults(rep *duel.Report) []*duel.Result {
	first := ""
	if cells := cellOrder(rep); len(cells) > 0 {
		first = cells[0]
	}
	pair := make([]*duel.Result, len(columns))
	for _, test := range duel.Tests() {
		found, _ := perColumn(rep, first, test)
		for j, r := range found {
			if r != nil && r.Ran() {
				pair[j] = r
			}
		}
	}
	return pair
}

// lifecycleTable shows each protocol's socket lifecycle side by side (see
// lifecycleResults); the column headings say which test and link each column
// comes from.
func lifecycleTable(w io.Writer, rep *duel.Report, st Style) error {
	pair := lifecycleResults(rep)
	if !anyResult(pair) {
		return nil
	}
	st.section(w, "Socket lifecycle")
	header := []any{"step"}
	show := shown(rep)
	pair = keepShown(pair, show)
	names := keepShown(columns, show)
	for j, r := range pair {
		head := protoName(names[j])
		if r != nil {
			head += " · " + string(r.Test) + " test"
			if r.Cell != "" {
				head += " · " + r.Cell
			}
		}
		header = append(header, head)
	}
	t := st.newTable(w, header...)
	for _, s := range lifeSteps {
		line := []any{s.label}
		for _, r := range pair {
			text := na
			if r != nil {
				text = s.show(r, st)
			}
			line = append(line, text)
		}
		if err := t.Append(line...); err != nil {
			return err
		}
	}
	return t.Render()
}

func anyResult(rs []*duel.Result) bool {
	for _, r := range rs {
		if r != nil {
			return true
		}
	}
	return false
}

// opt formats an optional microsecond timing with a note.
func opt(v *float64, note string) string {
	if v == nil {
		return "not measured" + note
	}
	return Micros(*v) + note
}
