package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
	"github.com/netduel/netduel/stats"
)

// TestResultsOfNoKind: a document from elsewhere with results of a protocol
// and test no kind has (and a known kind beside them) renders in every format:
// such results measure no figure, and get no column of their own.
func TestResultsOfNoKind(t *testing.T) {
	t.Parallel()
	rep := &duel.Report{Schema: duel.Schema, Results: []duel.Result{
		{Proto: "quic", Test: "latency", ReceivedFrames: 3},
		{Proto: "tcp", Test: "reverse", Intervals: []stats.Interval{{EndS: 1}}},
		{Proto: duel.ProtoTCP, Test: duel.TestLatency, ReceivedFrames: 1},
	}}
	for _, format := range Formats {
		var out bytes.Buffer
		if err := Render(&out, RunDoc{Report: rep, Extras: Extras{ShowIntervals: true}}, Options{Format: format}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if format == "table" && strings.Contains(out.String(), "QUIC ·") {
			t.Errorf("a protocol no kind has got a column:\n%s", out.String())
		}
	}
}
