package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/fatih/color"

	"github.com/netduel/netduel/port"
)

// PortCheck is the netduel.port/v1 document of 'netduel port check'.
type PortCheck struct {
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
}

// PortWarning is one warning of a check document and where it applies: the
// results of Proto on Ports carry its Code.
type PortWarning struct {
	port.Warning
	Proto port.Proto  `json:"proto"`
	Ports []PortRange `json:"ports"`
}

// PortRange is a range of ports, both ends included.
type PortRange struct {
	Lo int `json:"lo"`
	Hi int `json:"hi"`
}

// PortFree is the netduel.port/v1 document of 'netduel port free'.
type PortFree struct {
	Schema  string `json:"schema"`
	Command string `json:"command"`
	Version string `json:"netduel_version"`
	// Ports are the free ports found, in search order.
	Ports []int `json:"ports"`
	// Requested is how many were asked for (--count); fewer found exits 1.
	Requested int        `json:"requested"`
	Range     PortRange  `json:"range"`
	Excluded  *PortRange `json:"excluded"`
	Protos    []string   `json:"protos"`
	Addresses []string   `json:"addresses"`
}

// PortConflicts is the netduel.port/v1 document of 'netduel port conflicts'.
type PortConflicts struct {
	Schema      string            `json:"schema"`
	Command     string            `json:"command"`
	Version     string            `json:"netduel_version"`
	OS          string            `json:"os"`
	Experiments []port.Experiment `json:"experiments"`
}

// manyPorts is the number of ports above which the check table lists only the
// results that are not free.
const manyPorts = 32

// RenderPortCheck writes a check document in format (one of Formats). It
// fills in doc.Warnings when they are nil.
func RenderPortCheck(w io.Writer, format string, doc *PortCheck, st Style) error {
	if doc.Warnings == nil {
		doc.Warnings = PortWarnings(doc.Ports)
	}
	switch format {
	case "json":
		return portCheckJSON(w, doc)
	case "ndjson":
		return portCheckNDJSON(w, doc)
	case "csv":
		return portCheckCSV(w, doc.Ports)
	case "markdown":
		st = Style{Markdown: true}
	}
	return portCheckTable(w, doc, st)
}

// portNDJSON writes a port document as NDJSON: the start event, one event per
// item, then the end event.
func portNDJSON[T any](w io.Writer, schema, command, version string, items []T, event func(T) any, end any) error {
	nd := NewNDJSON(w)
	if err := nd.emit(portStart(schema, command, version)); err != nil {
		return err
	}
	for _, it := range items {
		if err := nd.emit(event(it)); err != nil {
			return err
		}
	}
	return nd.emit(end)
}

func portStart(schema, command, version string) any {
	return struct {
		Event   string `json:"event"`
		Schema  string `json:"schema"`
		Command string `json:"command"`
		Version string `json:"netduel_version"`
	}{"start", schema, command, version}
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

func portCheckTable(w io.Writer, doc *PortCheck, st Style) error {
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
	return portWarnings(w, doc.Warnings, st)
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
	fmt.Fprintln(w, st.heading("Warnings"))
	if st.Markdown {
		fmt.Fprintln(w)
	}
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

// RenderPortFree writes a free document in format (one of Formats). The table
// is the ports alone, one per line, for shell scripts.
func RenderPortFree(w io.Writer, format string, doc *PortFree) error {
	switch format {
	case "json":
		return WriteJSON(w, doc)
	case "ndjson":
		return portNDJSON(w, doc.Schema, doc.Command, doc.Version, doc.Ports, func(p int) any {
			return struct {
				Event string `json:"event"`
				Port  int    `json:"port"`
			}{"port", p}
		}, struct {
			Event     string `json:"event"`
			Found     int    `json:"found"`
			Requested int    `json:"requested"`
		}{"end", len(doc.Ports), doc.Requested})
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"port"}); err != nil {
			return err
		}
		for _, p := range doc.Ports {
			if err := cw.Write([]string{strconv.Itoa(p)}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		st := Style{Markdown: true}
		fmt.Fprintf(w, "%s  (%s, %s)\n\n", st.heading("netduel port free"), strings.Join(doc.Protos, ", "), freeWhere(doc))
		t := st.newTable(w, "port")
		for _, p := range doc.Ports {
			if err := t.Append([]any{strconv.Itoa(p)}); err != nil {
				return err
			}
		}
		return t.Render()
	}
	for _, p := range doc.Ports {
		fmt.Fprintln(w, p)
	}
	return nil
}

// FreeSummary says where Free looked and what it found, for stderr.
func FreeSummary(doc *PortFree) string {
	return fmt.Sprintf("found %d of %d free for %s in %s", len(doc.Ports), doc.Requested,
		strings.Join(doc.Protos, "+"), freeWhere(doc))
}

func freeWhere(doc *PortFree) string {
	s := fmt.Sprintf("%d-%d", doc.Range.Lo, doc.Range.Hi)
	if doc.Excluded != nil {
		s += fmt.Sprintf(" without the ephemeral range %d-%d", doc.Excluded.Lo, doc.Excluded.Hi)
	}
	return s
}

// RenderPortConflicts writes a conflicts document in format (one of Formats).
func RenderPortConflicts(w io.Writer, format string, doc *PortConflicts, st Style) error {
	switch format {
	case "json":
		return WriteJSON(w, doc)
	case "ndjson":
		return portNDJSON(w, doc.Schema, doc.Command, doc.Version, doc.Experiments, func(e port.Experiment) any {
			return struct {
				Event string `json:"event"`
				port.Experiment
			}{"experiment", e}
		}, struct {
			Event       string `json:"event"`
			Experiments int    `json:"experiments"`
		}{"end", len(doc.Experiments)})
	case "csv":
		cw := csv.NewWriter(w)
		header := []string{"name", "title", "port", "outcome", "observed"}
		for _, os := range port.OSes {
			header = append(header, "expected_"+os)
		}
		header = append(header, "as_expected", "explanation")
		if err := cw.Write(header); err != nil {
			return err
		}
		for _, e := range doc.Experiments {
			row := []string{e.Name, e.Title, strconv.Itoa(e.Port), e.Outcome, e.Observed}
			for _, os := range port.OSes {
				row = append(row, e.Expected[os])
			}
			row = append(row, asExpected(e.AsExpected), e.Explanation)
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		st = Style{Markdown: true}
	}
	return conflictsTable(w, doc, st)
}

func asExpected(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "true"
	}
	return "false"
}

// osNames are the OS names people read.
var osNames = map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}

func conflictsTable(w io.Writer, doc *PortConflicts, st Style) error {
	here := osNames[doc.OS]
	if here == "" {
		here = doc.OS
	}
	fmt.Fprintf(w, "%s  (real binds on this %s host, loopback only)\n\n", st.heading("netduel port conflicts"), here)
	t := st.newTable(w, "#", "experiment", "observed here", "documented for "+here)
	for i, e := range doc.Experiments {
		exp := e.Expected[doc.OS]
		if exp == "" {
			exp = na
		}
		obs := e.Observed
		switch {
		case e.AsExpected == nil:
		case *e.AsExpected:
			obs = st.good(obs)
		default:
			obs = st.paint(colorRed, obs+" (differs)")
		}
		if err := t.Append([]any{strconv.Itoa(i + 1), e.Title, obs, exp}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, st.heading("What each experiment did, and why"))
	for i, e := range doc.Experiments {
		fmt.Fprintln(w)
		if st.Markdown {
			fmt.Fprintf(w, "%d. **%s** (`%s`, port %d)\n", i+1, e.Title, e.Name, e.Port)
			for _, s := range e.Steps {
				fmt.Fprintf(w, "   - `%s`: %s\n", s.Socket, s.Result)
			}
			fmt.Fprintf(w, "   - documented: %s\n", expectedLine(e))
			fmt.Fprintf(w, "\n   %s\n", e.Explanation)
			continue
		}
		fmt.Fprintf(w, "%2d. %s (%s, port %d)\n", i+1, st.paint(color.Bold, e.Title), e.Name, e.Port)
		for _, s := range e.Steps {
			fmt.Fprintf(w, "      %s: %s\n", s.Socket, s.Result)
		}
		fmt.Fprintf(w, "      documented: %s\n", expectedLine(e))
		fmt.Fprintf(w, "      %s\n", e.Explanation)
	}
	return nil
}

func expectedLine(e port.Experiment) string {
	var parts []string
	for _, os := range port.OSes {
		if t, ok := e.Expected[os]; ok {
			parts = append(parts, osNames[os]+": "+t)
		}
	}
	return strings.Join(parts, "; ")
}

// HeldPortTable writes the short port-conflict table of a run's report: for
// each of port.HeldPortExperiments, what was tried and what happened.
func HeldPortTable(w io.Writer, p int, exps []port.Experiment, st Style) error {
	fmt.Fprintln(w, st.heading(fmt.Sprintf("Port %d: what TCP and UDP sharing it means for other binds", p)))
	if st.Markdown {
		fmt.Fprintln(w)
	}
	t := st.newTable(w, "experiment", "binds tried", "observed")
	for _, e := range exps {
		var steps []string
		for _, s := range e.Steps {
			steps = append(steps, s.Socket+": "+s.Result)
		}
		if err := t.Append([]any{e.Title, strings.Join(steps, "; "), e.Observed}); err != nil {
			return err
		}
	}
	return t.Render()
}
