package report

import (
	"fmt"
	"io"

	"github.com/netduel/netduel/duel"
)

// lifecycleTable shows each protocol's socket lifecycle side by side, from the
// latency test where there is one (its data socket does the least besides), else
// from the throughput test, on the first cell (link); the column headings say
// which test and link each column comes from.
func lifecycleTable(w io.Writer, rep *duel.Report, st Style) error {
	var pair [2]*duel.Result
	first := ""
	if cells := cellOrder(rep); len(cells) > 0 {
		first = cells[0]
	}
	for _, test := range duel.Tests() {
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Test != test || r.Cell != first {
				continue
			}
			for j, p := range protos {
				if r.Proto == p {
					pair[j] = r
				}
			}
		}
	}
	if pair[0] == nil && pair[1] == nil {
		return nil
	}
	fmt.Fprintln(w, st.heading("Socket lifecycle"))
	if st.Markdown {
		fmt.Fprintln(w)
	}
	heads := [2]string{"TCP", "UDP"}
	for j, r := range pair {
		if r != nil {
			heads[j] += " · " + string(r.Test) + " test"
			if r.Cell != "" {
				heads[j] += " · " + r.Cell
			}
		}
	}
	t := st.newTable(w, "step", heads[0], heads[1])
	rows := [][3]string{
		{"socket() (client)", "", ""},
		{"bind() (server)", "", ""},
		{"listen() (server)", "", ""},
		{"connect() (client)", "", ""},
		{"accept() (server)", "", ""},
		{"first byte (server)", "", ""},
		{"first reply (client)", "", ""},
		{"close() (client)", "", ""},
		{"server told of close", "", ""},
	}
	for j, r := range pair {
		if r == nil {
			for i := range rows {
				rows[i][j+1] = na
			}
			continue
		}
		l := r.Lifecycle
		tcp := r.Proto == duel.ProtoTCP
		rows[0][j+1] = opt(l.SocketUS, "")
		rows[1][j+1] = opt(l.BindUS, "")
		if tcp {
			rows[2][j+1] = opt(l.ListenUS, "")
			rows[3][j+1] = opt(l.ConnectUS, " — 3-way handshake (1 round trip)")
			rows[4][j+1] = opt(l.AcceptUS, " after connect began; before any data")
			if l.AcceptUS == nil {
				rows[4][j+1] = "before any data (server remote: not timed)"
			}
		} else {
			rows[2][j+1] = na + " none: connectionless"
			rows[3][j+1] = opt(l.ConnectUS, " — no packet: only sets the default peer")
			rows[4][j+1] = na + " none: the server learns of the client at its first datagram"
		}
		rows[5][j+1] = opt(l.FirstByteUS, firstByteNote(r))
		if l.FirstByteUS == nil {
			rows[5][j+1] = "not measured (server remote: not timed)"
		}
		rows[6][j+1] = opt(l.FirstReplyUS, " (the first round trip)")
		if r.Test != duel.TestLatency {
			rows[6][j+1] = na + " (a throughput test has no replies)"
		}
		rows[7][j+1] = opt(l.CloseUS, "")
		switch {
		case tcp && l.PeerSawClose && l.PeerSawCloseUS != nil:
			rows[8][j+1] = "yes (FIN) after " + Micros(*l.PeerSawCloseUS) + ": the FIN's trip"
		case tcp && l.PeerSawClose:
			rows[8][j+1] = "yes (FIN); not timed"
		case tcp:
			rows[8][j+1] = st.bad("no FIN seen")
		default:
			rows[8][j+1] = "never: no FIN in UDP"
		}
	}
	for _, r := range rows {
		if err := t.Append(r[0], r[1], r[2]); err != nil {
			return err
		}
	}
	return t.Render()
}

// firstByteNote says what the first byte's time spans: from connect() starting
// to the server reading the data socket's first byte.
func firstByteNote(r *duel.Result) string {
	if r.Proto == duel.ProtoTCP {
		return " after connect() began (handshake + first data)"
	}
	return " after connect() began (the first datagram)"
}

// opt formats an optional microsecond timing with a note.
func opt(v *float64, note string) string {
	if v == nil {
		return "not measured" + note
	}
	return Micros(*v) + note
}

func optSuffix(v *float64, prefix string) string {
	if v == nil {
		return ""
	}
	return prefix + Micros(*v)
}
