package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/port"
)

func portFixture() *PortCheckDoc {
	race := port.Warning{Code: port.WarnRace, Message: "free now, but another process may bind it between this check and your server's bind", Advice: "bind port 0 and report the port the OS chose"}
	eph := port.Warning{Code: port.WarnEphemeral, Message: "inside the ephemeral range 32768-60999 (from /proc/sys/net/ipv4/ip_local_port_range)", Advice: "outgoing connections may take it at any time"}
	wk := port.Warning{Code: port.WarnWellKnown, Message: "a well-known port (http)", Advice: "use a port above 1023 unless you serve it"}
	tw := port.Warning{Code: port.WarnTimeWait, Message: "TCP connections on this port are in TIME_WAIT", Advice: "a Go server binds anyway (Go sets SO_REUSEADDR)"}
	me := &port.Owner{PID: 4242, Name: "python3", User: "alice"}
	rs := []port.Result{
		{Port: 80, Proto: port.TCP, Family: port.IPv4, Address: "0.0.0.0", State: port.StateInUse, Error: "EADDRINUSE", OwnerNote: port.NoteRunAsRoot, SocketState: "LISTEN", Service: "http", Warnings: []port.Warning{wk}},
		{Port: 80, Proto: port.TCP, Family: port.IPv6, Address: "::1", State: port.StateUnavailable, Error: "EADDRNOTAVAIL", Service: "http", Warnings: []port.Warning{wk}},
		{Port: 8080, Proto: port.TCP, Family: port.IPv4, Address: "127.0.0.1", State: port.StateInUse, Error: "EADDRINUSE", Owner: me, SocketState: "LISTEN", Service: "http-alt"},
		{Port: 8080, Proto: port.UDP, Family: port.IPv4, Address: "127.0.0.1", State: port.StateFree, Warnings: []port.Warning{race}},
		{Port: 40000, Proto: port.TCP, Family: port.IPv4, Address: "127.0.0.1", State: port.StateFree, SocketState: "TIME_WAIT", Warnings: []port.Warning{eph, tw, race}},
		{Port: 40000, Proto: port.UDP, Family: port.IPv4, Address: "127.0.0.1", State: port.StateFree, Inferred: true, Warnings: []port.Warning{eph, race}},
	}
	return &PortCheckDoc{Schema: port.Schema, Command: "check", Version: "test", AllFree: false, Ports: rs}
}

func conflictsFixture() *PortConflictsDoc {
	yes, no := true, false
	return &PortConflictsDoc{Schema: port.Schema, Command: "conflicts", Version: "test", OS: "linux", Experiments: []port.Experiment{
		{Name: "tcp_udp_same_port", Title: "TCP and UDP on the same port", Port: 41000, Outcome: port.OutcomeBothBind, Observed: "both bind",
			Steps:    []port.Step{{Socket: "TCP 127.0.0.1:41000 SO_REUSEADDR, listen", Result: "ok"}, {Socket: "UDP 127.0.0.1:41000", Result: "ok"}},
			Expected: map[string]string{"linux": "both bind", "darwin": "both bind", "windows": "both bind"}, AsExpected: &yes,
			Explanation: "TCP and UDP have separate port spaces."},
		{Name: "tcp_reuseport_split", Title: "two TCP listeners with SO_REUSEPORT", Port: 41001, Outcome: port.OutcomeOneGetsAll, Observed: "both bind; the second socket got all 64 connections",
			Steps:    []port.Step{{Socket: "TCP 127.0.0.1:41001 SO_REUSEPORT, listen", Result: "ok"}, {Socket: "TCP 127.0.0.1:41001 SO_REUSEPORT, listen", Result: "ok"}},
			Expected: map[string]string{"linux": "both bind; the kernel spreads connections", "darwin": "both bind; one gets all", "windows": "no SO_REUSEPORT"}, AsExpected: &no,
			Explanation: "A second socket takes part of the traffic.", Traffic: &port.Traffic{Unit: "connections", Sent: 64, Received: []int{0, 64}}},
		{Name: "dual_stack_v6only_off", Title: "TCP on 0.0.0.0, then [::] dual-stack", Port: 41002, Outcome: port.OutcomeNotAvail, Observed: "not available on this OS",
			Steps:    []port.Step{{Socket: "TCP 0.0.0.0:41002", Result: "ok"}},
			Expected: map[string]string{"linux": "second bind fails: EADDRINUSE"}, Explanation: "Dual-stack sockets take IPv4 too."},
	}}
}

func freeFixture() *PortFreeDoc {
	return &PortFreeDoc{Schema: port.Schema, Command: "free", Version: "test", Ports: []int{20123, 20124}, Requested: 3,
		Range: PortRange{1024, 65535}, Excluded: &PortRange{32768, 60999}, Protos: []string{"tcp", "udp"}, Addresses: []string{"0.0.0.0", "::"}}
}

func TestGoldenPort(t *testing.T) {
	for _, format := range []string{"table", "markdown", "csv"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			if err := Render(&out, portFixture(), Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			golden(t, "port_check."+format, out.Bytes())
			out.Reset()
			if err := Render(&out, freeFixture(), Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			golden(t, "port_free."+format, out.Bytes())
			out.Reset()
			if err := Render(&out, conflictsFixture(), Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			golden(t, "port_conflicts."+format, out.Bytes())
		})
	}
	var out bytes.Buffer
	if err := heldPortTable(&out, &duel.PortConflicts{Port: 41000, Experiments: conflictsFixture().Experiments[:1]}, Style{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "port_held.table", out.Bytes())
}

// TestPortColor: colour only when asked, and never in Markdown.
func TestPortColor(t *testing.T) {
	var plain, colour, md bytes.Buffer
	_ = Render(&plain, portFixture(), Options{Format: "table"})
	_ = Render(&colour, portFixture(), Options{Format: "table", Style: Style{Color: true}})
	_ = Render(&md, portFixture(), Options{Format: "markdown", Style: Style{Color: true}})
	if strings.Contains(plain.String(), "\x1b[") || strings.Contains(md.String(), "\x1b[") || !strings.Contains(colour.String(), "\x1b[") {
		t.Error("colour escapes where they should not be, or missing where asked for")
	}
}

// TestPortJSONAndNDJSON: the documents carry the schema, and every NDJSON line
// is a JSON object with an event.
func TestPortJSONAndNDJSON(t *testing.T) {
	render := map[string]func(f string, w *bytes.Buffer) error{
		"check":     func(f string, w *bytes.Buffer) error { return Render(w, portFixture(), Options{Format: f}) },
		"free":      func(f string, w *bytes.Buffer) error { return Render(w, freeFixture(), Options{Format: f}) },
		"conflicts": func(f string, w *bytes.Buffer) error { return Render(w, conflictsFixture(), Options{Format: f}) },
	}
	for name, r := range render {
		var out bytes.Buffer
		if err := r("json", &out); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc["schema"] != port.Schema || doc["command"] != name {
			t.Errorf("%s json: %v %v", name, err, doc["schema"])
		}
		out.Reset()
		if err := r("ndjson", &out); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for i, line := range lines {
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev["event"] == nil {
				t.Errorf("%s ndjson line %d: %v %q", name, i, err, line)
			}
		}
		if !strings.Contains(lines[0], `"event":"start"`) || !strings.Contains(lines[len(lines)-1], `"event":"end"`) {
			t.Errorf("%s ndjson: no start or end event", name)
		}
	}
}

// TestPortCheckManyPorts: a large check lists only the ports not free.
func TestPortCheckManyPorts(t *testing.T) {
	doc := &PortCheckDoc{Schema: port.Schema, Command: "check"}
	for p := 9000; p < 9100; p++ {
		r := port.Result{Port: p, Proto: port.TCP, Family: port.IPv4, Address: "127.0.0.1", State: port.StateFree}
		if p == 9050 {
			r.State, r.Error = port.StateInUse, "EADDRINUSE"
		}
		doc.Ports = append(doc.Ports, r)
	}
	var out bytes.Buffer
	if err := Render(&out, doc, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Count(s, "127.0.0.1") != 1 || !strings.Contains(s, "99 ports free; not free: 9050 (only those are listed above)") {
		t.Errorf("got:\n%s", s)
	}
}

// TestPortCheckIncomplete: a check that did not finish (interrupted) says so
// in every format, as a failed run does: JSON and NDJSON had its error, but a
// table, Markdown or CSV read as a whole check of the ports it reached.
func TestPortCheckIncomplete(t *testing.T) {
	const why = "interrupted after 3 of 9 ports"
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			doc := portFixture()
			doc.Error, doc.Interrupted = why, true
			var out bytes.Buffer
			if err := Render(&out, doc, Options{Format: format}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			last := lines[len(lines)-1]
			switch format {
			case "json":
				var got struct {
					Interrupted bool   `json:"interrupted"`
					Error       string `json:"error"`
				}
				if err := json.Unmarshal(out.Bytes(), &got); err != nil || !got.Interrupted || got.Error != why {
					t.Errorf("interrupted %v, error %q (%v): want true and %q, as a run's document", got.Interrupted, got.Error, err, why)
				}
			case "ndjson":
				if !strings.Contains(last, `"interrupted":true`) || !strings.Contains(last, why) {
					t.Errorf("end event %s: want interrupted and the error", last)
				}
			case "csv":
				row, err := csv.NewReader(strings.NewReader(last)).Read()
				if err != nil || len(row) != len(portCheckHeader) || row[slices.Index(portCheckHeader, "error")] != why || row[0] != "" {
					t.Errorf("last CSV row %q (%v): want every column empty but error", last, err)
				}
			default:
				if !strings.Contains(last, "Check incomplete") || !strings.Contains(last, why) {
					t.Errorf("last line %q: want the check's error", last)
				}
			}
		})
	}
}
