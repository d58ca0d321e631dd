package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/fatih/color"

	"github.com/netduel/netduel/port"
)

// PortCheckDoc is the netduel.port/v1 document of 'netduel port check'.
type PortCheckDoc struct {
	Schema  string `json:"schema"`
	Command string `json:"command"`
	Version string `json:"netduel_version"`
	// As is the server whose bind was tried: "go" or "c" (--as).
	As string `json:"as"`
	// AllFree: every port is free for every protocol and address checked
	// (exit status 0).
	AllFree bool `json:"all_free"`
	// Warnings are the warnings of Ports, each once, with the ports of one
	// protocol it applies to (PortWarnings); a result names its own by code.
	Warnings []PortWarning `json:"warnings"`
	Ports    []port.Result `json:"ports"`
	// Interrupted: a signal (Ctrl-C, SIGTERM) stopped the check early, as a
	// run's document says it.
	Interrupted bool `json:"interrupted,omitempty"`
	// Error says why the check did not finish (interrupted): Ports hold the
	// ports checked until then.
	Error string `json:"error,omitempty"`
}

// PortWarning is one warning of a check document and where it applies: the
// results of Proto on Ports carry its Code.
type PortWarning struct {
	port.Warning
	Proto port.Proto  `json:"proto"`
	Ports []PortRange `json:"ports"`
}

// manyPorts is the number of ports above which the check table lists only the
// results that are not free.
const manyPorts = 32

// fill fills in the warnings when they are nil.
func (doc *PortCheckDoc) fill() {
	if doc.Warnings == nil {
		doc.Warnings = PortWarnings(doc.Ports)
	}
}

func (doc *PortCheckDoc) writeJSON(w io.Writer) error { doc.fill(); return portCheckJSON(w, doc) }

func (doc *PortCheckDoc) writeNDJSON(w io.Writer) error { doc.fill(); return portCheckNDJSON(w, doc) }

func (doc *PortCheckDoc) writeCSV(w, _ io.Writer) error {
	if err := portCheckCSV(w, doc.Ports); err != nil {
		return err
	}
	return portCheckErrorCSV(w, doc.Error)
}

// portCheckErrorCSV writes why a check did not finish as a last CSV row:
// every column empty but error, as a failed run's last row is.
func portCheckErrorCSV(w io.Writer, msg string) error {
	if msg == "" {
		return nil
	}
	return errorRow(w, len(portCheckHeader), slices.Index(portCheckHeader, "error"), msg)
}

// portCheckErrorLine writes why a check did not finish after its tables, as a
// failed run's last line (the title names only the ports checked).
func portCheckErrorLine(w io.Writer, msg string, st Style) error {
	if msg == "" {
		return nil
	}
	return errorLine(w, "Check incomplete:", msg, st)
}

func (doc *PortCheckDoc) writeTable(w io.Writer, st Style) error {
	doc.fill()
	return portCheckTable(&tailWriter{w: w}, doc, st)
}

var portCheckHeader = []string{"port", "proto", "family", "address", "state", "error", "inferred",
	"owner_pid", "owner_name", "owner_user", "owner_note", "socket_state", "service", "warnings"}

func portCheckCSV(w io.Writer, rs []port.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(portCheckHeader); err != nil {
		return err
	}
	for _, r := range rs {
		pid, name, user := "", "", ""
		if r.Owner != nil {
			pid, name, user = strconv.Itoa(r.Owner.PID), r.Owner.Name, r.Owner.User
		}
		codes := make([]string, len(r.Warnings))
		for i, wn := range r.Warnings {
			codes[i] = wn.Code
		}
		if err := cw.Write([]string{strconv.Itoa(r.Port), string(r.Proto), string(r.Family), r.Address, string(r.State),
			r.Error, strconv.FormatBool(r.Inferred), pid, name, user, r.OwnerNote, r.SocketState, r.Service,
			strings.Join(codes, ";")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// distinctPorts lists the ports of rs in order, once each.
func distinctPorts(rs []port.Result) []int {
	var out []int
	var seen port.PortSet
	for _, r := range rs {
		if !seen.Has(r.Port) {
			seen.Add(r.Port)
			out = append(out, r.Port)
		}
	}
	return out
}

func (s Style) state(st port.State) string {
	switch st {
	case port.StateFree:
		return s.good(string(st))
	case port.StateInUse, port.StateDenied:
		return s.paint(colorRed, string(st))
	}
	return s.bad(string(st))
}

// ownerText describes who holds a port: "4242 python3 (alice)".
func ownerText(r port.Result) string {
	switch {
	case r.Owner != nil:
		t := strconv.Itoa(r.Owner.PID)
		if r.Owner.Name != "" {
			t += " " + r.Owner.Name
		}
		if r.Owner.User != "" {
			t += " (" + r.Owner.User + ")"
		}
		return t
	case r.OwnerNote != "":
		return r.OwnerNote
	}
	return na
}

func portCheckTable(w io.Writer, doc *PortCheckDoc, st Style) error {
	ports := distinctPorts(doc.Ports)
	free := 0
	notFree := map[int]bool{}
	for _, r := range doc.Ports {
		if r.State != port.StateFree {
			notFree[r.Port] = true
		}
	}
	free = len(ports) - len(notFree)
	var protos []string
	for _, r := range doc.Ports {
		if !slices.Contains(protos, string(r.Proto)) {
			protos = append(protos, string(r.Proto))
		}
	}
	fmt.Fprintf(w, "%s  (%s; %s)\n\n", st.heading("netduel port check: "+port.FormatPorts(sortedCopy(ports))),
		strings.Join(protos, ", "), plural(len(ports), "port"))
	rows := doc.Ports
	if len(ports) > manyPorts {
		rows = nil
		for _, r := range doc.Ports {
			if r.State != port.StateFree {
				rows = append(rows, r)
			}
		}
	}
	if len(rows) > 0 {
		t := st.newTable(w, "port", "proto", "address", "state", "owner", "socket", "service")
		for _, r := range rows {
			state := st.state(r.State)
			if r.Error != "" && r.State != port.StateFree {
				state += " (" + r.Error + ")"
			}
			sock, svc := r.SocketState, r.Service
			if sock == "" {
				sock = na
			}
			if svc == "" {
				svc = na
			}
			if err := t.Append([]any{strconv.Itoa(r.Port), string(r.Proto), r.Address, state, ownerText(r), sock, svc}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if st.Markdown {
		fmt.Fprintln(w)
	}
	verdict := st.good(fmt.Sprintf("%s free for every protocol and address checked", plural(free, "port")))
	if len(notFree) > 0 {
		var taken []int
		for p := range notFree {
			taken = append(taken, p)
		}
		slices.Sort(taken)
		verdict = fmt.Sprintf("%s free; %s", plural(free, "port"),
			st.paint(colorRed, "not free: "+port.FormatPorts(taken)))
		if len(ports) > manyPorts {
			verdict += " (only those are listed above)"
		}
	}
	fmt.Fprintln(w, verdict)
	if err := portWarnings(w, doc.Warnings, st); err != nil {
		return err
	}
	return portCheckErrorLine(w, doc.Error, st)
}

func sortedCopy(ps []int) []int {
	out := slices.Clone(ps)
	slices.Sort(out)
	return slices.Compact(out)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%s %ss", Count(uint64(n)), what)
}

// portWarnings lists each distinct warning once, with the ports and protocols
// it applies to.
func portWarnings(w io.Writer, pws []PortWarning, st Style) error {
	type group struct {
		wn     port.Warning
		ports  port.PortSet
		protos []string
	}
	var groups []*group
	for _, pw := range pws {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.wn == pw.Warning })
		if i < 0 {
			i = len(groups)
			groups = append(groups, &group{wn: pw.Warning})
		}
		g := groups[i]
		for _, r := range pw.Ports {
			for p := r.Lo; p <= r.Hi; p++ {
				g.ports.Add(p)
			}
		}
		if !slices.Contains(g.protos, string(pw.Proto)) {
			g.protos = append(g.protos, string(pw.Proto))
		}
	}
	if len(groups) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	st.section(w, "Warnings")
	for _, g := range groups {
		slices.Sort(g.protos) // tcp before udp
		where := port.FormatPorts(g.ports.List(0)) + "/" + strings.Join(g.protos, ",")
		if st.Markdown {
			fmt.Fprintf(w, "- **%s** (%s): %s. %s\n", g.wn.Code, where, g.wn.Message, upperFirst(g.wn.Advice)+".")
			continue
		}
		fmt.Fprintf(w, "  %s %s: %s\n      %s\n", st.paint(color.FgYellow, g.wn.Code), where, g.wn.Message, "→ "+g.wn.Advice)
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// PortWarnings groups the warnings of rs: one PortWarning per distinct warning
// and protocol, in the order they first appear, with the ports whose results
// carry it. It is linear in len(rs): a full-range check has half a million
// results, whose warning slices port.Check shares between results alike.
func PortWarnings(rs []port.Result) []PortWarning {
	type key struct {
		wn    port.Warning
		proto port.Proto
	}
	type group struct {
		key
		ports port.PortSet
	}
	var (
		order  []*group
		byKey  = map[key]*group{}
		last   *port.Warning // the warning slice of the previous result ...
		lastN  int
		lastPr port.Proto
		lastGs []*group // ... and its groups
	)
	taken := map[port.Proto]*port.PortSet{} // per protocol, ports with a result that is not free
	for i := range rs {
		r := &rs[i]
		if r.State != port.StateFree {
			if taken[r.Proto] == nil {
				taken[r.Proto] = new(port.PortSet)
			}
			taken[r.Proto].Add(r.Port)
		}
		if len(r.Warnings) == 0 {
			continue
		}
		if d := unsafe.SliceData(r.Warnings); d != last || len(r.Warnings) != lastN || r.Proto != lastPr {
			last, lastN, lastPr = d, len(r.Warnings), r.Proto
			lastGs = lastGs[:0]
			for _, wn := range r.Warnings {
				k := key{wn, r.Proto}
				g := byKey[k]
				if g == nil {
					g = &group{key: k}
					byKey[k] = g
					order = append(order, g)
				}
				lastGs = append(lastGs, g)
			}
		}
		for _, g := range lastGs {
			g.ports.Add(r.Port)
		}
	}
	out := make([]PortWarning, 0, len(order))
	for _, g := range order {
		if t := taken[g.proto]; t != nil && g.wn.Code == port.WarnRace {
			// "Free now" is said of a port whose every result (of the
			// protocol) is free: a port taken on one address (127.0.0.1,
			// say) and free on another (:: with IPV6_V6ONLY) is not.
			for i := range g.ports {
				g.ports[i] &^= t[i]
			}
			if g.ports == (port.PortSet{}) {
				continue
			}
		}
		pw := PortWarning{Warning: g.wn, Proto: g.proto}
		for _, r := range g.ports.Ranges() {
			pw.Ports = append(pw.Ports, PortRange{Lo: r[0], Hi: r[1]})
		}
		out = append(out, pw)
	}
	return out
}
