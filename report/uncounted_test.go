package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netduel/netduel/duel"
)

// TestUncountedFramesAreNotZeros: an interrupted throughput test has no
// receiver's count; the table says so instead of "received 0, lost 0
// (0.000%)" beside 17,546 frames sent. A test that lost everything it sent
// is counted, and shows it.
func TestUncountedFramesAreNotZeros(t *testing.T) {
	t.Parallel()
	rep := &duel.Report{Schema: duel.Schema, Results: []duel.Result{
		{Proto: duel.ProtoTCP, Test: duel.TestThroughput, SentFrames: 17546, Error: "interrupted before the test's end"},
		{Proto: duel.ProtoUDP, Test: duel.TestThroughput, SentFrames: 100, LostFrames: 100, LostPct: 100, Error: "server: cut"},
	}}
	var b bytes.Buffer
	if err := Render(&b, RunDoc{Report: rep}, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "not counted: the test failed") || strings.Contains(out, "0 (0.000%)") || !strings.Contains(out, "100 (100.000%)") {
		t.Fatalf("table:\n%s", out)
	}
}
