//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProcCPU(t *testing.T) {
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatalf("this process's CPU time: %v", err)
	}
	if _, err := procCPU(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestParseIperf3Bytes(t *testing.T) {
	tcp, err := parseIperf3(readSample(t, "iperf3_tcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	if tcp.Bytes != 1943797760 {
		t.Errorf("tcp bytes %d, want end.sum_received.bytes", tcp.Bytes)
	}
	udp, err := parseIperf3(readSample(t, "iperf3_udp.json"))
	if err != nil {
		t.Fatal(err)
	}
	if udp.Bytes != 375312896 {
		t.Errorf("udp bytes %d, want end.sum_received.bytes", udp.Bytes)
	}
	// Without sum_received: the bytes sent less the loss.
	old, err := parseIperf3([]byte(`{"start":{"test_start":{"protocol":"UDP"}},"end":{"sum":{"bytes":1000,"bits_per_second":8000,"lost_percent":10}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if old.Bytes != 900 {
		t.Errorf("udp bytes without sum_received %d, want 900", old.Bytes)
	}
}

func TestTakeCPU(t *testing.T) {
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	r := sampleResult(t, "netduel_tcp.json", "tcp/throughput")
	// 27691 frames of 131072 bytes: 3.6295 GB.
	if err := c.takeCPU(mTCPCPU)(r, usage{client: 2 * time.Second, server: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := c.addCPU(mTCPCPU, false, usage{client: time.Second, server: time.Second}, 2e9); err != nil {
		t.Fatal(err)
	}
	m := c.metrics[mTCPCPU]
	bytes := 27691.0 * 131072
	if len(m.Netduel) != 1 || !near(m.Netduel[0], 3.5/(bytes/1e9)) || m.NetduelCPU[0].Bytes != 27691*131072 {
		t.Errorf("netduel cpu %v %+v", m.Netduel, m.NetduelCPU)
	}
	if len(m.Competitor) != 1 || !near(m.Competitor[0], 1) {
		t.Errorf("competitor cpu %v", m.Competitor)
	}
	if r, _ := m.ratio(); !near(r, 3.5/(bytes/1e9)) {
		t.Errorf("ratio %v", r)
	}
	if p, ok := m.pass(); !ok || !p {
		t.Error("0.96x of iperf3's CPU per GB missed <= 1.0x")
	}
	if got := c.rows()[mTCPCPU]; got[1] != "0.96 s/GB (client 0.55 + server 0.41)" || got[3] != "1.00 s/GB (client 0.50 + server 0.50)" || got[6] != "pass" {
		t.Errorf("cpu row %q", got)
	}
	// Twice the competitor's misses.
	m.Competitor, m.CompetitorCPU = []float64{0.48}, nil
	if p, _ := m.pass(); p {
		t.Error("2x of iperf3's CPU per GB passed <= 1.0x")
	}
}

func TestAddCPUErrors(t *testing.T) {
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	if err := c.addCPU(mUDPCPU, true, usage{client: time.Second, serverErr: errors.New("gone")}, 1e9); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("server error: %v", err)
	}
	if err := c.addCPU(mUDPCPU, true, usage{client: time.Second}, 0); err == nil {
		t.Error("no error for zero bytes")
	}
	if m := c.metrics[mUDPCPU]; len(m.Netduel) != 0 {
		t.Errorf("samples recorded on error: %v", m.Netduel)
	}
	// A step whose server CPU is unknown records nothing and says why.
	err := c.takeCPU(mUDPCPU)(&netduelResult{ReceivedFrames: 10, Size: 1472}, usage{serverErr: errors.New("no /proc")})
	if len(c.metrics[mUDPCPU].Netduel) != 0 || err == nil || !strings.Contains(err.Error(), "no /proc") {
		t.Errorf("samples %v error %v", c.metrics[mUDPCPU].Netduel, err)
	}
	// With both takes, the CPU's error comes through and the goodput is kept.
	err = both(c.takeGoodput(mUDPGoodput), c.takeCPU(mUDPCPU))(&netduelResult{GoodputBps: 1e9}, usage{})
	if err == nil || len(c.metrics[mUDPGoodput].Netduel) != 1 {
		t.Errorf("both: error %v, goodput samples %v", err, c.metrics[mUDPGoodput].Netduel)
	}
}

func TestPortCheckMetrics(t *testing.T) {
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	if got := len(c.metrics) - nMetrics; got != len(c.portCheckSteps()) || got < 5 {
		t.Fatalf("%d port check rows, %d groups", got, len(c.portCheckSteps()))
	}
	fast, slow := c.metrics[nMetrics], c.metrics[nMetrics+1]
	if !strings.HasSuffix(fast.Name, "-o table") || !fast.absolute() {
		t.Errorf("first port check row %+v", fast)
	}
	fast.Netduel = []float64{1.2, 0.9, 3}
	slow.Netduel = []float64{2.5}
	if p, ok := fast.pass(); !ok || !p {
		t.Error("a 1.2 s median missed <= 2 s")
	}
	if p, ok := slow.pass(); !ok || p {
		t.Error("2.5 s passed <= 2 s")
	}
	rows := c.rows()
	if got := rows[nMetrics]; got[1] != "1.20 s" || got[2] != "-" || got[4] != "-" || got[5] != "<= 2.00 s" || got[6] != "pass" || got[7] != "3" {
		t.Errorf("port check row %q", got)
	}
	if got := rows[nMetrics+1]; got[6] != "miss" {
		t.Errorf("slow port check row %q", got)
	}
	if got := rows[nMetrics+2]; got[6] != "no data" {
		t.Errorf("empty port check row %q", got)
	}
}

func TestPortCheckJSON(t *testing.T) {
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	c.metrics[nMetrics].Netduel = []float64{1.2}
	c.metrics[nMetrics+1].Netduel = []float64{2.5}
	b, err := json.Marshal(c.document())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metrics []struct {
			Competitor  *string  `json:"competitor"`
			TargetValue float64  `json:"target_value"`
			Ratio       *float64 `json:"ratio"`
			Pass        *bool    `json:"pass"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if m := doc.Metrics[nMetrics]; m.Competitor != nil || m.TargetValue != 2 || m.Ratio != nil || m.Pass == nil || !*m.Pass {
		t.Errorf("port check in JSON: %+v", m)
	}
	if m := doc.Metrics[nMetrics+1]; m.Pass == nil || *m.Pass {
		t.Errorf("slow port check in JSON: %+v", m)
	}
}

func TestExitCodeAbsolute(t *testing.T) {
	c := sampleComparison()
	c.o.check = true
	for _, m := range c.metrics {
		if len(m.Netduel) == 0 {
			m.Netduel = []float64{1}
		}
		if len(m.Competitor) == 0 && !m.absolute() {
			m.Competitor = []float64{1}
		}
	}
	logf := func(string, ...any) {}
	// The UDP goodput row misses its loss limit.
	if code := c.exitCode(logf); code != exitMissed {
		t.Errorf("exit %d, want %d", code, exitMissed)
	}
	c.metrics[mUDPGoodput].NetduelLossPct = []float64{0}
	if code := c.exitCode(logf); code != exitOK {
		t.Errorf("exit %d with every target met and no competitor for the port check, want 0", code)
	}
	c.metrics[nMetrics].Netduel = []float64{17}
	if code := c.exitCode(logf); code != exitMissed {
		t.Errorf("exit %d with a 17 s port check, want %d", code, exitMissed)
	}
	c.metrics[nMetrics].Netduel = nil
	if code := c.exitCode(logf); code != exitRuntime {
		t.Errorf("exit %d with a port check without a sample, want %d", code, exitRuntime)
	}
}

func TestInOrder(t *testing.T) {
	g := []step{{tool: "a"}, {tool: "b"}}
	if got := inOrder(g, 1); got[0].tool != "a" || got[1].tool != "b" {
		t.Errorf("round 1: %v", got)
	}
	if got := inOrder(g, 2); got[0].tool != "b" || got[1].tool != "a" {
		t.Errorf("round 2: %v", got)
	}
	if g[0].tool != "a" {
		t.Error("inOrder changed its input")
	}
	if got := inOrder(g[:1], 2); len(got) != 1 || got[0].tool != "a" {
		t.Errorf("one step: %v", got)
	}
}

func TestTakeCPULoss(t *testing.T) {
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	r := sampleResult(t, "netduel_udp.json", "udp/throughput")
	if err := c.takeCPU(mUDPCPU)(r, usage{client: time.Second}); err != nil {
		t.Fatal(err)
	}
	if m := c.metrics[mUDPCPU]; len(m.Netduel) != 1 || len(m.NetduelLossPct) != 1 || !near(m.NetduelLossPct[0], r.LostPct) {
		t.Errorf("udp cpu sample %v, loss %v", m.Netduel, m.NetduelLossPct)
	}
	r = sampleResult(t, "netduel_tcp.json", "tcp/throughput")
	if err := c.takeCPU(mTCPCPU)(r, usage{client: time.Second}); err != nil {
		t.Fatal(err)
	}
	if m := c.metrics[mTCPCPU]; len(m.Netduel) != 1 || m.NetduelLossPct != nil {
		t.Errorf("tcp cpu sample %v, loss %v", m.Netduel, m.NetduelLossPct)
	}
}

// sampleResult is the result of kind key ("proto/test") in the netduel JSON
// sample file.
func sampleResult(t *testing.T, file, key string) *netduelResult {
	t.Helper()
	rep, err := parseNetduel(readSample(t, file))
	if err != nil {
		t.Fatal(err)
	}
	r, err := rep.find(key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDrain: the port check rows read the report through drain, which keeps
// no output but must still tell a whole report from none and from one cut
// short.
func TestDrain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		ok     bool
	}{
		{"none", nil, false},
		{"empty writes", []string{"", ""}, false},
		{"whole", []string{"{\n  \"ports\": [", "]\n}\n"}, true},
		{"cut short", []string{"{\n  \"ports\": [", "\n    {\"port\": 1"}, false},
		{"newline then empty write", []string{"a\n", ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d drain
			for _, w := range tc.writes {
				if n, err := d.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if err := d.complete(); (err == nil) != tc.ok {
				t.Errorf("complete: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
