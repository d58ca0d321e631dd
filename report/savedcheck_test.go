package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// TestReadReportRefusesImpossibleFigures: a saved report whose figures no
// run could write (a crafted file: negative loss, a negative rate, an absurd
// goodput, more frames than sent) is refused, naming the figure, where
// 'netduel report' rendered "lost 0 (-50.000%)" and "offered rate -3.00 bit/s".
func TestReadReportRefusesImpossibleFigures(t *testing.T) {
	t.Parallel()
	neg, huge := -3.0, 1e308
	for _, tc := range []struct {
		name, want string
		edit       func(r *duel.Result)
	}{
		{"a real result", "", func(*duel.Result) {}},
		{"negative loss", "lost_pct -50", func(r *duel.Result) { r.LostPct = -50 }},
		{"negative offered rate", "offered_bps -3", func(r *duel.Result) { r.OfferedBps = &neg }},
		{"absurd goodput", "goodput_bps 1e+308", func(r *duel.Result) { r.GoodputBps = huge }},
		{"more lost than sent", "lost_frames 6 > sent_frames 5", func(r *duel.Result) { r.LostFrames = 6 }},
		{"more received than a duplicating link makes", "received_frames 11", func(r *duel.Result) { r.ReceivedFrames = 11 }},
		{"negative round trip", "rtt_us.p50 -1", func(r *duel.Result) { r.RTT = &stats.RTTSummary{P50: -1} }},
		// Read before, and left out of the table without a word.
		{"unknown protocol", "is no netduel test", func(r *duel.Result) { r.Proto = "\x1b[31mevil\nx" }},
		{"unknown test", "is no netduel test", func(r *duel.Result) { r.Test = "speed" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := duel.Result{Proto: duel.ProtoUDP, Test: duel.TestThroughput, SentFrames: 5, ReceivedFrames: 5, DurationS: 1, GoodputBps: 1e6}
			tc.edit(&r)
			b, err := json.Marshal(duel.Report{Schema: duel.Schema, Results: []duel.Result{r}})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = ReadReport(path)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want it to name %q", err, tc.want)
			}
		})
	}
}

// TestReadReportRefusesEmpty: a report with no results and no error is none
// netduel wrote (a run that ran nothing says why); it rendered a bare title.
func TestReadReportRefusesEmpty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rep  duel.Report
		ok   bool
	}{
		{"no results, no error", duel.Report{Schema: duel.Schema}, false},
		{"no results, with the error", duel.Report{Schema: duel.Schema, Error: "server 127.0.0.1:9 unreachable"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.rep)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadReport(path); (err == nil) != tc.ok {
				t.Errorf("ReadReport: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
