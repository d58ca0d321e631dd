package report

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/netduel/netduel/port"
)

// TestPortWarnings: one group per warning and protocol, in order of first
// appearance, with the ports as ranges.
func TestPortWarnings(t *testing.T) {
	got := PortWarnings(portFixture().Ports)
	type g struct {
		code  string
		proto port.Proto
		ports []PortRange
	}
	var short []g
	for _, pw := range got {
		short = append(short, g{pw.Code, pw.Proto, pw.Ports})
	}
	want := []g{
		{port.WarnWellKnown, port.TCP, []PortRange{{80, 80}}},
		{port.WarnRace, port.UDP, []PortRange{{8080, 8080}, {40000, 40000}}},
		{port.WarnEphemeral, port.TCP, []PortRange{{40000, 40000}}},
		{port.WarnTimeWait, port.TCP, []PortRange{{40000, 40000}}},
		{port.WarnRace, port.TCP, []PortRange{{40000, 40000}}},
		{port.WarnEphemeral, port.UDP, []PortRange{{40000, 40000}}},
	}
	if !reflect.DeepEqual(short, want) {
		t.Errorf("got  %v\nwant %v", short, want)
	}
}

// TestRaceWarningOnlyForFreePorts: "free now" is grouped for ports whose
// every result of the protocol is free, not for one taken on 127.0.0.1 and
// free on :: (it listed 18080 as free now beside its in-use row).
func TestRaceWarningOnlyForFreePorts(t *testing.T) {
	race := []port.Warning{{Code: port.WarnRace}}
	rs := []port.Result{
		{Port: 18080, Proto: port.TCP, Address: "127.0.0.1", State: port.StateInUse},
		{Port: 18080, Proto: port.TCP, Address: "::", State: port.StateFree, Warnings: race},
		{Port: 18080, Proto: port.UDP, Address: "127.0.0.1", State: port.StateFree, Warnings: race},
		{Port: 18080, Proto: port.UDP, Address: "::", State: port.StateFree, Warnings: race},
		{Port: 18081, Proto: port.TCP, Address: "127.0.0.1", State: port.StateFree, Warnings: race},
		{Port: 18081, Proto: port.TCP, Address: "::", State: port.StateFree, Warnings: race},
	}
	got := map[port.Proto][]PortRange{}
	for _, pw := range PortWarnings(rs) {
		if pw.Code == port.WarnRace {
			got[pw.Proto] = pw.Ports
		}
	}
	want := map[port.Proto][]PortRange{port.TCP: {{18081, 18081}}, port.UDP: {{18080, 18080}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("race warnings for %v, want %v", got, want)
	}
}

// TestPortCheckJSONRoundTrip: the streamed JSON and NDJSON are valid, read back
// into the same results (warnings by code), and carry the grouped warnings.
func TestPortCheckJSONRoundTrip(t *testing.T) {
	doc := portFixture()
	doc.Ports[2].Owner.Name = "odd \"name\"\n<é>" // escapes
	var out bytes.Buffer
	if err := Render(&out, doc, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var back PortCheckDoc
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for i := range doc.Ports {
		want := doc.Ports[i]
		var codes []port.Warning
		for _, w := range want.Warnings {
			codes = append(codes, port.Warning{Code: w.Code})
		}
		want.Warnings = codes
		if !reflect.DeepEqual(back.Ports[i], want) {
			t.Errorf("result %d: got %+v\nwant %+v", i, back.Ports[i], want)
		}
	}
	if !reflect.DeepEqual(back.Warnings, PortWarnings(doc.Ports)) {
		t.Errorf("warnings: got %+v", back.Warnings)
	}
	// The same document through encoding/json: the same JSON, bar layout.
	std, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(std, &a); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out.Bytes(), &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("streamed JSON differs from encoding/json's:\n%s\n%s", std, out.String())
	}

	out.Reset()
	if err := Render(&out, doc, Options{Format: "ndjson"}); err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		events[ev["event"].(string)]++
	}
	if want := map[string]int{"start": 1, "port": len(doc.Ports), "warning": len(doc.Warnings), "end": 1}; !reflect.DeepEqual(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
}

// fullRangeDoc is a check of 1024-65535, both protocols, four addresses: all
// free but one port, the warnings slices shared as port.Check shares them.
func fullRangeDoc() *PortCheckDoc {
	race := []port.Warning{{Code: port.WarnRace, Message: "free now, but another process may bind it between this check and your server's bind", Advice: "bind port 0"}}
	eph := append([]port.Warning{{Code: port.WarnEphemeral, Message: "inside the ephemeral range 32768-60999", Advice: "use a port outside the range"}}, race...)
	addrs := []string{"0.0.0.0", "::", "127.0.0.1", "::1"}
	doc := &PortCheckDoc{Schema: port.Schema, Command: "check", Version: "bench", As: "go"}
	for p := 1024; p <= port.MaxPort; p++ {
		for _, proto := range port.Protos {
			for i, a := range addrs {
				r := port.Result{Port: p, Proto: proto, Family: port.IPv4, Address: a, State: port.StateFree, Inferred: true, Warnings: race}
				if i%2 == 1 {
					r.Family = port.IPv6
				}
				if p >= 32768 && p <= 60999 {
					r.Warnings = eph
				}
				if p == 2024 && proto == port.TCP {
					r.State, r.Error, r.Inferred, r.Warnings = port.StateInUse, "EADDRINUSE", false, nil
					r.Owner = &port.Owner{PID: 1, Name: "init", User: "root"}
				}
				doc.Ports = append(doc.Ports, r)
			}
		}
	}
	return doc
}

// BenchmarkRenderPortCheckFullRange renders a full-range check in every
// format (the check itself: port.BenchmarkCheckFullRange; both:
// cmd/netduel's BenchmarkPortCheckFullRange).
func BenchmarkRenderPortCheckFullRange(b *testing.B) {
	doc := fullRangeDoc()
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				d := *doc
				d.Warnings = nil
				if err := Render(io.Discard, &d, Options{Format: format}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
