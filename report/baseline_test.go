package report

import (
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
)

// TestBaselineMatchesCellAndLink: results are matched by (cell, proto, test),
// and a result missing from either run, measured across another link, never
// run or without its server's count in either, fails the comparison with a
// line naming it.
func TestBaselineMatchesCellAndLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(old, cur *duel.Report)
		problems []string // substrings, one per expected problem
		compared int      // results compared
	}{
		{"same runs", func(old, cur *duel.Report) {}, nil, 8},
		{"missing from this run", func(old, cur *duel.Report) { cur.Results = cur.Results[:7] },
			[]string{"udp latency @ lossy (1% loss, 20ms each way): in the baseline, missing from this run"}, 7},
		{"not in the baseline", func(old, cur *duel.Report) { old.Results = old.Results[1:] },
			[]string{"tcp throughput @ clean (loopback): not in the baseline"}, 7},
		{"link changed", func(old, cur *duel.Report) {
			for i := 4; i < 8; i++ {
				li := *cur.Results[i].Link
				li.Emulator, li.TCPStack, li.Loss = "netstack", "gvisor", 5
				cur.Results[i].Link = &li
			}
		}, []string{"tcp throughput @ lossy (1% loss, 20ms each way): the link changed: baseline tun emulator, linux TCP",
			"udp throughput @ lossy", "tcp latency @ lossy", "udp latency @ lossy"}, 4},
		{"slot, ecn, rate overheads or a trace change the link", func(old, cur *duel.Report) {
			for i, edit := range []func(li *duel.LinkInfo){
				func(li *duel.LinkInfo) { li.Netem += " rate 10mbit 20 100 5" },
				func(li *duel.LinkInfo) { li.Netem += " slot 5ms 5ms"; li.Slot = "5ms 5ms" },
				func(li *duel.LinkInfo) { li.Netem += " ecn"; li.ECN = true },
				func(li *duel.LinkInfo) {
					li.Trace = &duel.TraceInfo{File: "cellular.trace", Opportunities: 2349, PeriodMs: 5000}
				},
			} {
				li := *cur.Results[4+i].Link
				edit(&li)
				cur.Results[4+i].Link = &li
			}
		}, []string{"tcp throughput @ lossy (1% loss, 20ms each way): the link changed", "udp throughput @ lossy", "tcp latency @ lossy", "udp latency @ lossy"}, 4},
		{"not counted in this run", func(old, cur *duel.Report) {
			cur.Results[1].Extent, cur.Results[1].Error = duel.ClientOnly, "interrupted before the test's end"
		}, []string{"udp throughput @ clean (loopback): failed in this run (interrupted before the test's end), so it is not compared"}, 7},
		{"not counted in the baseline", func(old, cur *duel.Report) { old.Results[0].Extent = duel.ClientOnly },
			[]string{"tcp throughput @ clean (loopback): not counted in the baseline (no report from the server)"}, 7},
		{"never ran", func(old, cur *duel.Report) {
			cur.Results[2].Extent, cur.Results[2].Error = duel.NotRun, "server 127.0.0.1:9 unreachable"
		}, []string{"tcp latency @ clean (loopback): never ran in this run (server 127.0.0.1:9 unreachable), so it is not compared"}, 7},
		{"failed", func(old, cur *duel.Report) { cur.Results[3].Error = "example: the server went away" },
			[]string{"udp latency @ clean (loopback): failed in this run (example: the server went away), so it is not compared"}, 7},
		{"failed in the baseline", func(old, cur *duel.Report) { old.Results[3].Error = "example: the server went away" },
			[]string{"udp latency @ clean (loopback): failed in the baseline (example: the server went away), so it is not compared"}, 7},
		{"frame size changed", func(old, cur *duel.Report) { cur.Results[0].Size = 200 }, // read as goodput -99% before
			[]string{"tcp throughput @ clean (loopback): the frame size changed: baseline 131072 bytes, now 200 (--size)"}, 7},
		{"seed alone is the same link", func(old, cur *duel.Report) {
			for i := 4; i < 8; i++ {
				li := *cur.Results[i].Link
				li.Seed = 42
				cur.Results[i].Link = &li
			}
		}, nil, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old, cur := linksFixture(), linksFixture()
			for _, rep := range []*duel.Report{old, cur} { // the fixture's failed test: see "failed"
				for i := range rep.Results {
					if rep.Results[i].Extent == duel.Measured {
						rep.Results[i].Error = ""
					}
				}
			}
			tt.edit(old, cur)
			b := Compare(old, cur, "old.json", 10)
			if len(b.Problems) != len(tt.problems) {
				t.Fatalf("problems %q, want %d like %q", b.Problems, len(tt.problems), tt.problems)
			}
			for i, want := range tt.problems {
				if !strings.Contains(b.Problems[i], want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, b.Problems[i], want)
				}
			}
			results := map[string]bool{}
			for _, c := range b.Comparisons {
				results[c.Result] = true
				if c.Worse {
					t.Errorf("identical results compared worse: %+v", c)
				}
			}
			if len(results) != tt.compared {
				t.Errorf("compared %d results, want %d: %v", len(results), tt.compared, results)
			}
		})
	}
}

// TestBaselineCellsNotCrossed: the lossy cell is compared with the baseline's
// lossy cell, not with the first result of the same protocol and test.
func TestBaselineCellsNotCrossed(t *testing.T) {
	t.Parallel()
	old, cur := linksFixture(), linksFixture()
	for i := 4; i < 8; i++ { // the lossy cell is 100 times slower in both runs
		old.Results[i].GoodputBps /= 100
		cur.Results[i].GoodputBps /= 100
	}
	b := Compare(old, cur, "old.json", 10)
	for _, c := range b.Comparisons {
		if c.Worse || c.Better {
			t.Errorf("%s %s compared across cells: %+v", c.Result, c.Metric, c)
		}
	}
}
