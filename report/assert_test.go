package report

import (
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

func TestParseAssertion(t *testing.T) {
	cases := []struct {
		expr    string
		field   string
		op      string
		value   float64
		wantErr string // substring of the error; "" = valid
	}{
		{"udp.throughput.lost_pct < 1", "lost_pct", "<", 1, ""},
		{"udp.latency.lost_pct =< 1", "", "", 0, `"=<" is not an operator: write "<="`}, // said: unknown field "lost_pct ="
		{"udp.latency.lost_pct => 1", "", "", 0, `write ">="`},
		{"udp.throughput.lost_pct<1%", "lost_pct", "<", 1, ""},
		{"tcp.latency.rtt_us.p99 <= 500", "rtt_us.p99", "<=", 500, ""},
		{"tcp.latency.rtt_us.p99 <= 0.5ms", "rtt_us.p99", "<=", 500, ""},
		{"tcp.latency.rtt_us.p50 < 2s", "rtt_us.p50", "<", 2e6, ""},
		{"tcp.throughput.goodput_bps >= 1G", "goodput_bps", ">=", 1e9, ""},
		{"udp.throughput.goodput_bps > 250M", "goodput_bps", ">", 250e6, ""},
		{"udp.throughput.jitter_ms.mean <= 300us", "jitter_ms.mean", "<=", 0.3, ""},
		{"TCP.Latency.lost_frames == 0", "lost_frames", "==", 0, ""},
		{"udp.latency.lost_frames != 3", "lost_frames", "!=", 3, ""},
		{"tcp.throughput.tcp.retransmits <= 1e3", "tcp.retransmits", "<=", 1000, ""},
		// Unknown fields list the valid ones.
		{"tcp.latency.rtt_us.p98 < 1", "", "", 0, "valid fields: "},
		{"tcp.throughput.rtt_us.p99 < 1", "", "", 0, "unknown field"},
		{"tcp.throughput.offered_bps > 1", "", "", 0, "unknown field"},
		{"udp.latency.tcp.retransmits < 1", "", "", 0, "unknown field"},
		// Bad units.
		{"tcp.throughput.goodput_bps > 5ms", "", "", 0, `unit "ms"`},
		{"udp.throughput.lost_pct < 1M", "", "", 0, `unit "M"`},
		{"tcp.latency.rtt_us.p99 < 5%", "", "", 0, `unit "%"`},
		{"tcp.latency.lost_frames < 5s", "", "", 0, `unit "s"`},
		// Bad operators and shapes.
		{"tcp.latency.rtt_us.p99 ~ 5", "", "", 0, "no operator"},
		{"tcp.latency.rtt_us.p99 =< 5", "", "", 0, `write "<="`},
		{"tcp.latency <= 5", "", "", 0, "PROTO.TEST.FIELD"},
		{"sctp.latency.lost_pct < 1", "", "", 0, "not tcp or udp"},
		{"tcp.speed.lost_pct < 1", "", "", 0, "not throughput or latency"},
		{"tcp.latency.lost_pct < abc", "", "", 0, "not a number"},
		{"tcp.latency.lost_pct < NaN", "", "", 0, "not a number"},
		{"", "", "", 0, "no operator"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			a, err := ParseAssertion(tc.expr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Field != tc.field || a.Op != tc.op || a.Value != tc.value {
				t.Fatalf("got %s %s %v, want %s %s %v", a.Field, a.Op, a.Value, tc.field, tc.op, tc.value)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	results := []duel.Result{
		{Proto: "udp", Test: "throughput", LostPct: 0.5, GoodputBps: 9e8},
		{Proto: "tcp", Test: "latency", RTT: &stats.RTTSummary{P99: 400}},
		{Proto: "tcp", Test: "throughput", GoodputBps: 2e9, Error: "boom"},
	}
	mk := func(s string) Assertion {
		a, err := ParseAssertion(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	checks := Evaluate([]Assertion{
		mk("udp.throughput.lost_pct < 1"),
		mk("udp.throughput.goodput_bps >= 1G"),
		mk("tcp.latency.rtt_us.p99 <= 0.5ms"),
		mk("tcp.throughput.goodput_bps > 1G"), // the test failed: the check fails
		mk("udp.latency.lost_pct < 1"),        // not run: fails
	}, results)
	want := []bool{true, false, true, false, false}
	if len(checks) != len(want) {
		t.Fatalf("%d checks: %+v", len(checks), checks)
	}
	for i, c := range checks {
		if c.Pass != want[i] {
			t.Errorf("check %d (%s): pass %v, want %v", i, c.Assertion, c.Pass, want[i])
		}
	}
	if Failed(checks) != 3 {
		t.Errorf("Failed = %d, want 3", Failed(checks))
	}
}

// TestEvaluateCells: in a sweep an assertion applies to every cell unless it
// names one after @ (a case-insensitive part of the cell's label).
func TestEvaluateCells(t *testing.T) {
	results := []duel.Result{
		{Proto: "udp", Test: "throughput", LostPct: 0, Cell: "loss 0%, delay 0s"},
		{Proto: "udp", Test: "throughput", LostPct: 1.1, Cell: "loss 1%, delay 0s"},
		{Proto: "udp", Test: "throughput", LostPct: 5.2, Cell: "loss 5%, delay 0s"},
	}
	for _, tc := range []struct {
		expr    string
		results []string // the checks' result names
		pass    []bool
	}{
		{"udp.throughput.lost_pct < 2", []string{
			"udp throughput · loss 0%, delay 0s", "udp throughput · loss 1%, delay 0s", "udp throughput · loss 5%, delay 0s"},
			[]bool{true, true, false}},
		{"udp.throughput.lost_pct < 2 @ loss 1%", []string{"udp throughput · loss 1%, delay 0s"}, []bool{true}},
		{"udp.throughput.lost_pct<2@LOSS 5", []string{"udp throughput · loss 5%, delay 0s"}, []bool{false}},
		{"udp.throughput.lost_pct < 2 @ loss 9%", []string{"udp throughput @ loss 9% (not run)"}, []bool{false}},
	} {
		a, err := ParseAssertion(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		checks := Evaluate([]Assertion{a}, results)
		if len(checks) != len(tc.results) {
			t.Fatalf("%s: %d checks %+v", tc.expr, len(checks), checks)
		}
		for i, c := range checks {
			if c.Result != tc.results[i] || c.Pass != tc.pass[i] {
				t.Errorf("%s: check %d = %q pass %v; want %q pass %v", tc.expr, i, c.Result, c.Pass, tc.results[i], tc.pass[i])
			}
		}
	}
	if _, err := ParseAssertion("udp.throughput.lost_pct < 2 @ "); err == nil || !strings.Contains(err.Error(), "nothing after @") {
		t.Errorf("empty cell: %v", err)
	}
}
