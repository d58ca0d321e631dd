//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestParseIperf3TCP(t *testing.T) {
	r, err := parseIperf3(readSample(t, "iperf3_tcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The receiver's rate: end.sum_received.bits_per_second.
	if want := 15537656739.130653; !near(r.Goodput, want) || r.UDP || r.LostPct != 0 {
		t.Errorf("got %+v, want goodput %v over TCP", r, want)
	}
}

func TestParseIperf3UDP(t *testing.T) {
	r, err := parseIperf3(readSample(t, "iperf3_udp.json"))
	if err != nil {
		t.Fatal(err)
	}
	// end.sum: bit rate × (1 − lost_percent/100).
	lost := 10.238966706553107
	want := 3345979104.33433 * (1 - lost/100)
	if !r.UDP || !near(r.LostPct, lost) || !near(r.Goodput, want) {
		t.Errorf("got %+v, want UDP goodput %v with %v%% lost", r, want, lost)
	}
}

func TestParseIperf3Errors(t *testing.T) {
	for name, in := range map[string]string{
		"error field": `{"start":{"connected":[]},"intervals":[],"end":{},"error":"error - the server is busy running a test. try again later"}`,
		"not json":    `iperf3: error - unable to connect to server`,
		"empty":       ``,
		"tcp no end":  `{"start":{"test_start":{"protocol":"TCP"}},"end":{}}`,
		"udp no loss": `{"start":{"test_start":{"protocol":"UDP"}},"end":{"sum":{"bits_per_second":1e9}}}`,
	} {
		if _, err := parseIperf3([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "error field" && !strings.Contains(err.Error(), "busy") {
			t.Errorf("%s: error %q does not carry iperf3's message", name, err)
		}
	}
}

func TestParseSockperf(t *testing.T) {
	for _, c := range []struct {
		file               string
		p50, p99, avg, max float64
		observations       int
	}{
		{"sockperf_tcp.txt", 16.491, 44.799, 17.897, 939.451, 15359},
		{"sockperf_udp.txt", 12.919, 36.834, 14.127, 1247.298, 19462},
	} {
		r, err := parseSockperf(readSample(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if r.P50 != c.p50 || r.P99 != c.p99 || r.Avg != c.avg || r.Max != c.max || r.Observations != c.observations {
			t.Errorf("%s: got %+v", c.file, r)
		}
	}
}

func TestParseSockperfIncomplete(t *testing.T) {
	in := "sockperf: ---> percentile 50.000 =   12.919\nsockperf: ERROR: Test ended early\n"
	_, err := parseSockperf([]byte(in))
	if err == nil {
		t.Fatal("no error without a 99th percentile")
	}
	if !strings.Contains(err.Error(), "Test ended early") {
		t.Errorf("error %q does not show sockperf's last line", err)
	}
	if _, err := parseSockperf(nil); err == nil {
		t.Error("no error for empty output")
	}
}

func TestParseNetduel(t *testing.T) {
	tcp, err := parseNetduel(readSample(t, "netduel_tcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tcp.find("tcp/throughput")
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.GoodputBps, 14474438738.659037) {
		t.Errorf("tcp goodput %v", r.GoodputBps)
	}
	if _, err := tcp.find("udp/throughput"); err == nil {
		t.Error("found a udp result that is not there")
	}

	udp, err := parseNetduel(readSample(t, "netduel_udp.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err = udp.find("udp/throughput"); err != nil {
		t.Fatal(err)
	}
	if r.Size != 1472 || !near(r.GoodputBps, 9664730305.251062) || !near(r.LostPct, 8.766797478891664) {
		t.Errorf("udp result %+v", r)
	}

	lat, err := parseNetduel(readSample(t, "netduel_latency.json"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][2]float64{"tcp/latency": {26, 97}, "udp/latency": {30, 168}} {
		r, err := lat.find(key)
		if err != nil {
			t.Fatal(err)
		}
		if r.RTT.P50 != want[0] || r.RTT.P99 != want[1] {
			t.Errorf("%s: p50 %v p99 %v, want %v", key, r.RTT.P50, r.RTT.P99, want)
		}
	}
}

func TestParseNetduelErrors(t *testing.T) {
	if _, err := parseNetduel([]byte(`{"schema":"other/v1","results":[]}`)); err == nil {
		t.Error("accepted a foreign schema")
	}
	if _, err := parseNetduel([]byte(`netduel: server unreachable`)); err == nil {
		t.Error("accepted text")
	}
	rep, err := parseNetduel([]byte(`{"schema":"netduel.run/v1","results":[
		{"proto":"udp","test":"throughput","error":"server refused: busy"},
		{"proto":"tcp","test":"latency"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.find("udp/throughput"); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("a failed result gave error %v", err)
	}
	if _, err := rep.find("tcp/latency"); err == nil {
		t.Error("a latency result without rtt_us passed")
	}
}

func TestMedian(t *testing.T) {
	if _, ok := median(nil); ok {
		t.Error("median of nothing is ok")
	}
	in := []float64{5, 1, 3}
	if m, ok := median(in); !ok || m != 3 {
		t.Errorf("median %v %v, want 3", m, ok)
	}
	if in[0] != 5 || in[1] != 1 {
		t.Error("median sorted its input")
	}
	if m, _ := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even median %v, want 2.5", m)
	}
	if m, _ := median([]float64{7}); m != 7 {
		t.Errorf("median of one %v", m)
	}
}

func TestRatio(t *testing.T) {
	if r, ok := ratio(3, 2); !ok || r != 1.5 {
		t.Errorf("ratio(3, 2) = %v %v", r, ok)
	}
	for _, b := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, ok := ratio(1, b); ok {
			t.Errorf("ratio(1, %v) is ok", b)
		}
	}
	if _, ok := ratio(math.NaN(), 1); ok {
		t.Error("ratio(NaN, 1) is ok")
	}
}

func TestMetricPass(t *testing.T) {
	ms := newMetrics()
	g := ms[mTCPGoodput]
	if _, ok := g.pass(); ok {
		t.Error("pass without samples")
	}
	g.Netduel, g.Competitor = []float64{20e9, 24e9, 22e9}, []float64{10e9, 11e9, 12e9}
	if r, _ := g.ratio(); r != 2 {
		t.Errorf("ratio %v, want 2", r)
	}
	if p, ok := g.pass(); !ok || !p {
		t.Error("2.0x of iperf3 should pass >= 2.0x (DESIGN §9)")
	}
	g.Netduel = []float64{20.9e9}
	if p, _ := g.pass(); p {
		t.Error("1.9x passed >= 2.0x (DESIGN §9)")
	}
	ug := ms[mUDPGoodput]
	ug.Netduel, ug.Competitor = []float64{2.4e9}, []float64{1e9}
	ug.NetduelLossPct = []float64{0}
	if p, ok := ug.pass(); !ok || p {
		t.Errorf("UDP goodput 2.4x of iperf3's: pass %v (ok %v), want a miss of >= 2.5x (DESIGN §9)", p, ok)
	}
	ug.Netduel = []float64{2.5e9}
	if p, ok := ug.pass(); !ok || !p {
		t.Errorf("UDP goodput 2.5x of iperf3's: pass %v (ok %v), want a pass", p, ok)
	}

	rtt := ms[mUDPp50]
	rtt.Netduel, rtt.Competitor = []float64{30}, []float64{28}
	if p, _ := rtt.pass(); !p {
		t.Error("1.07x passed not <= 1.1x")
	}
	rtt.Netduel = []float64{40}
	if p, _ := rtt.pass(); p {
		t.Error("1.43x passed <= 1.1x")
	}

	u := ms[mUDPGoodput]
	u.Netduel, u.Competitor = []float64{8e9}, []float64{1e9}
	u.NetduelLossPct = []float64{0.05}
	if p, _ := u.pass(); !p {
		t.Error("8x at 0.05% loss should pass")
	}
	u.NetduelLossPct = []float64{8.8}
	if p, _ := u.pass(); p {
		t.Error("8x at 8.8% loss passed a 0.1% loss limit")
	}
}

// sampleComparison has TCP goodput 2.4x iperf3's, UDP goodput above its
// loss limit, and no round-trip samples.
func sampleComparison() *comparison {
	c := newComparison(&options{rounds: 1, duration: 2 * time.Second}, "netduel", ports{})
	c.metrics[mTCPGoodput].Netduel = []float64{24e9}
	c.metrics[mTCPGoodput].Competitor = []float64{10e9}
	c.metrics[mUDPGoodput].Netduel = []float64{8e9}
	c.metrics[mUDPGoodput].NetduelLossPct = []float64{1}
	c.metrics[mUDPGoodput].Competitor = []float64{1e9}
	c.metrics[mUDPGoodput].CompetitorLossPct = []float64{40}
	return c
}

func TestRows(t *testing.T) {
	c := sampleComparison()
	rows := c.rows()
	if got := rows[mTCPGoodput]; got[1] != "24.00 Gbit/s" || got[3] != "10.00 Gbit/s" || got[4] != "2.40x" || got[6] != "pass" {
		t.Errorf("tcp row %q", got)
	}
	if got := rows[mUDPGoodput]; got[1] != "8.00 Gbit/s, 1% loss" || got[3] != "1.00 Gbit/s, 40% loss" || !strings.HasPrefix(got[6], "miss") {
		t.Errorf("udp row %q", got)
	}
	if got := rows[mTCPp50]; got[4] != "-" || got[6] != "no data" {
		t.Errorf("empty row %q", got)
	}
	var buf bytes.Buffer
	if err := c.renderTable(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "TCP goodput") {
		t.Errorf("table:\n%s", buf.String())
	}
}

func TestDocumentJSON(t *testing.T) {
	b, err := json.Marshal(sampleComparison().document())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string `json:"schema"`
		Metrics []struct {
			Ratio *float64 `json:"ratio"`
			Pass  *bool    `json:"pass"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || len(doc.Metrics) != len(newMetrics()) {
		t.Fatalf("document %s", b)
	}
	if m := doc.Metrics[mTCPGoodput]; m.Ratio == nil || !near(*m.Ratio, 2.4) || m.Pass == nil || !*m.Pass {
		t.Errorf("tcp goodput in JSON: %s", b)
	}
	if m := doc.Metrics[mUDPGoodput]; m.Pass == nil || *m.Pass {
		t.Errorf("udp goodput above the loss limit passed in JSON: %s", b)
	}
	if m := doc.Metrics[mTCPp50]; m.Ratio != nil || m.Pass != nil {
		t.Errorf("a metric without samples has a ratio in JSON: %s", b)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.rounds != 3 || o.duration != 5*time.Second || o.output != "table" {
		t.Errorf("defaults %+v", o)
	}
	if o, err = parseFlags([]string{"--rounds", "1", "--duration", "2s", "-o", "json"}, io.Discard); err != nil || o.rounds != 1 || o.output != "json" {
		t.Errorf("%+v %v", o, err)
	}
	for _, bad := range [][]string{{"--rounds", "0"}, {"--duration", "10ms"}, {"-o", "csv"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSteal(t *testing.T) {
	for _, tc := range []struct {
		stat string
		ms   float64
		ok   bool
	}{
		{"cpu  10 0 5 1000 2 0 1 7 0 0\ncpu0 5 0 2 500 1 0 0 3 0 0\n", 70, true},
		{"cpu  10 0 5 1000\n", 0, false}, // no steal column (an old kernel)
		{"cpu0 1 2 3 4 5 6 7 8\n", 0, false},
		{"cpu  1 2 3 4 5 6 7 x\n", 0, false},
		{"", 0, false},
	} {
		ms, ok := parseSteal(tc.stat)
		if ms != tc.ms || ok != tc.ok {
			t.Errorf("%q: %v %v, want %v %v", tc.stat, ms, ok, tc.ms, tc.ok)
		}
	}
	var l *stealLog
	if l.summary() != "" {
		t.Error("no log: want no note")
	}
	l = &stealLog{}
	l.add(stealStep{Round: 1, Tool: "netduel", What: "TCP round trip", MS: 30}, 1000, 2)
	l.add(stealStep{Round: 1, Tool: "sockperf", What: "TCP round trip", MS: 10}, 1000, 2)
	l.add(stealStep{Round: 2, Tool: "netduel", What: "UDP round trip", MS: 50}, 500, 2)
	if l.NetduelMS != 80 || l.CompetitorMS != 10 {
		t.Errorf("sums %v %v", l.NetduelMS, l.CompetitorMS)
	}
	if s := l.summary(); !strings.Contains(s, "took 80 ms of CPU (steal, 2.7% of the CPU time) during netduel's steps and 10 ms (0.5%)") || !strings.Contains(s, "5.0% in round 2, netduel UDP round trip") {
		t.Errorf("summary %q", s)
	}
	if v, ok := stealTime(); runtime.GOOS == "linux" && (!ok || v < 0) {
		t.Errorf("stealTime on Linux: %v, %v", v, ok)
	}
}

// An interrupted or failed comparison still writes a whole document, with
// the error, and exits 3.
func TestInterruptedDocument(t *testing.T) {
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := &options{rounds: 1, duration: time.Second, output: "json", netduelBin: bin}
	cmp, code := compareAll(ctx, o, t.Logf, io.Discard)
	if cmp == nil || code != exitRuntime {
		t.Fatalf("compareAll: %v, code %d; want a comparison and %d", cmp, code, exitRuntime)
	}
	var out bytes.Buffer
	if err := cmp.write(&out); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Schema  string            `json:"schema"`
		Metrics []json.RawMessage `json:"metrics"`
		Errors  []string          `json:"errors"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, out.String())
	}
	if d.Schema != Schema || len(d.Metrics) == 0 || len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "interrupted: ") {
		t.Errorf("document: schema %q, %d metrics, errors %q", d.Schema, len(d.Metrics), d.Errors)
	}
}
