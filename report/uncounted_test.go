package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// Results with figures nobody measured (duel.Extent): a test that never ran
// and one whose server's count is missing, beside one that lost everything it
// sent, which is counted and shows it.
var (
	neverRan = duel.Result{Proto: duel.ProtoTCP, Test: duel.TestThroughput, Size: 131072,
		Error: "server 127.0.0.1:9 unreachable: connection refused", Extent: duel.NotRun}
	notCounted = duel.Result{Proto: duel.ProtoTCP, Test: duel.TestThroughput, Size: 131072, DurationS: 1.5,
		SentFrames: 17546, Error: "interrupted before the test's end", Extent: duel.ClientOnly}
	allLost = duel.Result{Proto: duel.ProtoUDP, Test: duel.TestThroughput, Size: 1200, DurationS: 1,
		SentFrames: 100, LostFrames: 100, LostPct: 100, Error: "server: cut", Jitter: &duel.Jitter{},
		OfferedBps: ptr(1e6), RequestedBps: ptr(1e6)}
)

func ptr(v float64) *float64 { return &v }

// TestUnmeasuredIsAbsentNotZero: what was not measured is absent in every
// format (JSON and NDJSON leave the field out, CSV leaves its cell empty,
// tables say so), never a zero; the old code wrote sent_frames 0, lost_pct 0
// and goodput_bps 0 for a test that never ran.
func TestUnmeasuredIsAbsentNotZero(t *testing.T) {
	t.Parallel()
	server := []string{"received_frames", "lost_frames", "reordered_frames", "duplicate_frames", "corrupt_frames", "lost_pct", "goodput_bps", "jitter_ms"}
	cases := []struct {
		name   string
		r      duel.Result
		absent []string
		keys   []string // exactly these, when set
	}{
		{"never ran", neverRan, nil, []string{"proto", "test", "size", "error"}},
		{"not counted", notCounted, server, nil},
		{"all lost", allLost, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(c.r)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			for _, k := range c.absent {
				if _, ok := got[k]; ok {
					t.Errorf("JSON has %s: %s", k, b)
				}
			}
			if c.keys != nil {
				var keys []string
				for k := range got {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				want := slices.Sorted(slices.Values(c.keys))
				if !slices.Equal(keys, want) {
					t.Errorf("JSON keys %v, want %v", keys, want)
				}
			}
			if c.r.Extent == duel.Measured {
				for _, k := range append(server, "sent_frames", "duration_s") {
					if _, ok := got[k]; !ok {
						t.Errorf("a counted result's JSON lacks %s: %s", k, b)
					}
				}
			}
			// Read back, the result knows what it lacks.
			var back duel.Result
			if err := json.Unmarshal(b, &back); err != nil || back.Extent != c.r.Extent || back.SentFrames != c.r.SentFrames {
				t.Errorf("read back: %v, extent %d sent %d, want %d and %d", err, back.Extent, back.SentFrames, c.r.Extent, c.r.SentFrames)
			}
			rep := &duel.Report{Schema: duel.Schema, Results: []duel.Result{c.r}, Error: c.r.Error}
			var nd bytes.Buffer
			if err := NewNDJSON(&nd).Result(c.r); err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(nd.Bytes(), &ev); err != nil || ev["event"] != "result" || ev["proto"] != string(c.r.Proto) {
				t.Fatalf("NDJSON line %s: %v", nd.String(), err)
			}
			for _, k := range c.absent {
				if _, ok := ev[k]; ok {
					t.Errorf("NDJSON has %s: %s", k, nd.String())
				}
			}
			var cb bytes.Buffer
			if err := Render(&cb, RunDoc{Report: rep}, Options{Format: "csv"}); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&cb).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("CSV: %v\n%s", err, cb.String())
			}
			for i, name := range rows[0] {
				if name == "jitter_ms" || !slices.Contains(append(server, "sent_frames", "duration_s"), name) {
					continue
				}
				wantEmpty := slices.Contains(c.absent, name) || c.keys != nil && !slices.Contains(c.keys, name)
				if (rows[1][i] == "") != wantEmpty {
					t.Errorf("CSV %s = %q", name, rows[1][i])
				}
			}
		})
	}
}

// TestUnmeasuredInTables: the table says a figure was not counted and a test
// did not run, where the old code printed "received 0, lost 0 (0.000%)"
// beside 17,546 frames sent, a full table of zeros for a test that never
// started, and "n/a on this OS" for its kernel TCP figures on Linux.
func TestUnmeasuredInTables(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"table", "markdown"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			render := func(rs ...duel.Result) string {
				var b bytes.Buffer
				rep := &duel.Report{Schema: duel.Schema, Results: rs, Error: rs[0].Error}
				if err := Render(&b, RunDoc{Report: rep}, Options{Format: format}); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			out := render(notCounted, allLost)
			if !strings.Contains(out, "not counted") || strings.Contains(out, "0 (0.000%)") || !strings.Contains(out, "100 (100.000%)") {
				t.Errorf("interrupted beside all lost:\n%s", out)
			}
			if strings.Contains(out, "no FIN seen") || !strings.Contains(out, "not known (no report from the server)") {
				t.Errorf("an interrupted test cannot say whether the server saw its FIN:\n%s", out)
			}
			if strings.Contains(out, "n/a on this OS") || !strings.Contains(out, "not measured") {
				t.Errorf("a failed TCP test's kernel figures should say not measured:\n%s", out)
			}
			// Its server-side lifecycle steps are untimed because it failed,
			// not because the server is remote.
			if strings.Contains(out, "server remote") || !strings.Contains(out, "the test failed: no time from the server") {
				t.Errorf("a failed test's first byte blames a remote server:\n%s", out)
			}
			out = render(neverRan)
			if strings.Contains(out, "frames sent") || strings.Contains(out, "0.00 bit/s") || strings.Contains(out, "Socket lifecycle") ||
				!strings.Contains(out, "error: "+neverRan.Error) {
				t.Errorf("a test that never ran:\n%s", out)
			}
			out = render(neverRan, allLost)
			if !strings.Contains(out, "not run") || !strings.Contains(out, "100 (100.000%)") {
				t.Errorf("never ran beside all lost:\n%s", out)
			}
			if format == "markdown" {
				// GitHub takes a line right after a table's row for one more row.
				lines := strings.Split(out, "\n")
				for i := 1; i < len(lines); i++ {
					if strings.HasPrefix(lines[i-1], "|") && lines[i] != "" && !strings.HasPrefix(lines[i], "|") {
						t.Errorf("line %d %q follows a table row without a blank line", i+1, lines[i])
					}
				}
				// One blank line before the run's last, not two.
				if out := render(neverRan); strings.Contains(out, "\n\n\n") || !strings.Contains(out, "\n\n**Run failed:**") {
					t.Errorf("the run's last line should follow one blank line:\n%q", out)
				}
			}
		})
	}
}

// TestAssertOnUnmeasured: an assertion on a figure that was not measured has
// no value (present false) and names the test's error; the old code gave
// present true, actual 0.
func TestAssertOnUnmeasured(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r     duel.Result
		field string
	}{{neverRan, "lost_pct"}, {neverRan, "sent_frames"}, {notCounted, "lost_pct"}, {notCounted, "goodput_bps"}} {
		a, err := ParseAssertion("tcp.throughput." + c.field + " == 0")
		if err != nil {
			t.Fatal(err)
		}
		cs := Evaluate([]Assertion{a}, []duel.Result{c.r})
		if len(cs) != 1 || cs[0].Present || cs[0].Pass || cs[0].Error != c.r.Error {
			t.Errorf("%s on %q: %+v", c.field, c.r.Error, cs)
		}
		// Its JSON has no actual value (it wrote "actual": 0).
		if b, _ := json.Marshal(cs[0]); strings.Contains(string(b), `"actual"`) {
			t.Errorf("%s on %q: %s", c.field, c.r.Error, b)
		}
	}
	a, _ := ParseAssertion("tcp.throughput.sent_frames > 0")
	cs := Evaluate([]Assertion{a}, []duel.Result{notCounted})
	if !cs[0].Present || cs[0].Actual != 17546 || cs[0].Pass {
		t.Errorf("the sender's own count is known: %+v", cs)
	}
	if b, _ := json.Marshal(cs[0]); !strings.Contains(string(b), `"actual":17546`) {
		t.Errorf("a measured check's JSON: %s", b)
	}
}

// TestOneProtocolOneColumn: a run of one protocol has no column of dashes
// for the other (the old code drew an empty UDP column beside TCP's).
func TestOneProtocolOneColumn(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"table", "markdown"} {
		rep := &duel.Report{Schema: duel.Schema, Results: []duel.Result{allLost}}
		var b bytes.Buffer
		if err := Render(&b, RunDoc{Report: rep}, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "TCP") || !strings.Contains(out, "netduel: UDP ") || !strings.Contains(out, "UDP · throughput test") {
			t.Errorf("%s of a UDP-only run:\n%s", format, out)
		}
	}
	// Nor rows of the other protocol's figures: no kernel TCP rows in a
	// UDP-only table, no pacing or jitter in a TCP-only one.
	for _, c := range []struct {
		proto      duel.Proto
		want, none []string
	}{
		{duel.ProtoUDP, []string{"jitter mean / max", "offered rate", "refused by the sender's stack"}, []string{"(kernel)", "cwnd", "no connection state"}},
		{duel.ProtoTCP, []string{"retransmits (kernel)", "cwnd / congestion", "smoothed RTT (kernel)"}, []string{"jitter", "offered rate", "requested rate", "refused by the sender", "paced by TCP"}},
	} {
		rep := fixture()
		rep.Results = slices.DeleteFunc(rep.Results, func(r duel.Result) bool { return r.Proto != c.proto })
		var b bytes.Buffer
		if err := Render(&b, RunDoc{Report: rep}, Options{Format: "table"}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s-only table lacks %q:\n%s", c.proto, w, out)
			}
		}
		for _, n := range c.none {
			if strings.Contains(out, n) {
				t.Errorf("%s-only table has %q:\n%s", c.proto, n, out)
			}
		}
		// Across links: UDP's socket drops and checksum discards are UDP's.
		rep = linksFixture()
		rep.Results = slices.DeleteFunc(rep.Results, func(r duel.Result) bool { return r.Proto != c.proto })
		b.Reset()
		if err := Render(&b, RunDoc{Report: rep}, Options{Format: "table"}); err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(b.String(), "socket drops") && strings.Contains(b.String(), "checksum discards"); has != (c.proto == duel.ProtoUDP) {
			t.Errorf("%s-only links table, UDP's socket drops and checksum discards shown %v:\n%s", c.proto, has, b.String())
		}
		// The link lines name the TCP stack only where a TCP test ran.
		if has := strings.Contains(b.String(), "kernel TCP"); has != (c.proto == duel.ProtoTCP) {
			t.Errorf("%s-only links table, the TCP stack named %v:\n%s", c.proto, has, b.String())
		}
	}
}

// TestNDJSONEventsNamed: every NDJSON line names its event, assertion lines
// included (a Check's own MarshalJSON, promoted from a struct that embedded
// it, wrote the check without its "event").
func TestNDJSONEventsNamed(t *testing.T) {
	t.Parallel()
	rep := fixture()
	var as []Assertion
	for _, e := range []string{"udp.throughput.lost_pct < 3", "tcp.throughput.goodput_bps > 1G"} {
		a, err := ParseAssertion(e)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	checks := Evaluate(as, append(rep.Results, neverRan))
	var b bytes.Buffer
	doc := RunDoc{Report: rep, Extras: Extras{Checks: checks, Baseline: Compare(fixture(), rep, "old.json", 10)}}
	if err := Render(&b, doc, Options{Format: "ndjson"}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var ev struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Event == "" {
			t.Errorf("line %d has no event (%v): %s", i+1, err, line)
		}
		seen[ev.Event]++
	}
	if seen["assertion"] != len(checks) || seen["result"] != len(rep.Results) || seen["end"] != 1 {
		t.Errorf("events %v, want %d assertions, %d results, an end", seen, len(checks), len(rep.Results))
	}
}

// TestOneBlankLineBeforeSections: a document's sections (intervals,
// assertions, baseline) follow one blank line, never two, in tables and
// Markdown (the intervals' sections followed two).
func TestOneBlankLineBeforeSections(t *testing.T) {
	t.Parallel()
	rep := fixture()
	rep.Results[0].Intervals = []stats.Interval{{StartS: 0, EndS: 1, Frames: 10, GoodputBps: 1e6}}
	rep.PortConflicts = &duel.PortConflicts{Port: 41000, Experiments: conflictsFixture().Experiments[:1]}
	a, _ := ParseAssertion("udp.throughput.lost_pct < 3")
	doc := RunDoc{Report: rep, Extras: Extras{Checks: Evaluate([]Assertion{a}, rep.Results),
		Baseline: Compare(fixture(), rep, "old.json", 10), ShowIntervals: true}}
	for _, format := range []string{"table", "markdown"} {
		var b bytes.Buffer
		if err := Render(&b, doc, Options{Format: format}); err != nil {
			t.Fatal(err)
		}
		if i := strings.Index(b.String(), "\n\n\n"); i >= 0 {
			t.Errorf("%s: two blank lines at %d: %q", format, i, b.String()[max(0, i-80):min(len(b.String()), i+80)])
		}
		if !strings.Contains(b.String(), "Intervals: TCP throughput") {
			t.Errorf("%s: no intervals section", format)
		}
	}
}

// TestLostBeforeLinkRow: the frames that never reached the link have their
// row under "lost" where a result counted them (UDP throughput across an
// emulated link), and none elsewhere.
func TestLostBeforeLinkRow(t *testing.T) {
	t.Parallel()
	render := func(rep *duel.Report) string {
		var b bytes.Buffer
		if err := Render(&b, RunDoc{Report: rep}, Options{Format: "table"}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if out := render(fixture()); strings.Contains(out, "never reached the link") {
		t.Errorf("a run without a link has the row:\n%s", out)
	}
	rep := linksFixture()
	n := 0
	for i, r := range rep.Results {
		if r.Proto == duel.ProtoUDP && r.Test == duel.TestThroughput && r.Link.Emulator == "tun" {
			v := uint64(12345)
			rep.Results[i].LostBeforeLink = &v
			n++
		}
	}
	if n == 0 {
		t.Fatal("the links fixture has no UDP throughput result across tun")
	}
	out := render(rep)
	i := strings.Index(out, "of which never reached the link")
	if i < 0 || !strings.Contains(out[i:i+strings.IndexByte(out[i:], '\n')], "12,345") {
		t.Errorf("no row with the count:\n%s", out)
	}
	var b bytes.Buffer
	if err := Render(&b, RunDoc{Report: rep}, Options{Format: "json"}); err != nil || !strings.Contains(b.String(), `"lost_before_link": 12345`) {
		t.Errorf("JSON lacks lost_before_link (%v)", err)
	}
}

// TestAddedDelayPerTest: each test across a link has its own line of the
// emulator's lateness (the old table showed the cell's first test's alone,
// under a UDP flood's self-check that failed on the lateness it hid).
func TestAddedDelayPerTest(t *testing.T) {
	t.Parallel()
	rep := linksFixture()
	n := 0
	for i, r := range rep.Results {
		if r.Link != nil && r.Link.Emulator == "tun" {
			n++
			li := *r.Link
			li.Up.AddedDelay = &duel.AddedDelay{Packets: 100, P50US: float64(1000 * n), P99US: float64(2000 * n), MaxUS: float64(3000 * n)}
			rep.Results[i].Link = &li
		}
	}
	if n < 2 {
		t.Fatalf("the fixture's lossy cell has %d results", n)
	}
	var b bytes.Buffer
	if err := Render(&b, RunDoc{Report: rep}, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for i := 1; i <= n; i++ {
		if !strings.Contains(out, fmt.Sprintf("client→server %d / %d / %d µs", 1000*i, 2000*i, 3000*i)) {
			t.Errorf("test %d's added delay is not shown:\n%s", i, out)
		}
	}
	if !strings.Contains(out, "delay the emulator itself added, UDP throughput") {
		t.Errorf("the lines do not name their test:\n%s", out)
	}
}
