package report

import (
	"bytes"
	"testing"

	"github.com/netduel/netduel/duel"
)

// TestSweepWithoutLinks: a document that says it is a sweep but whose results
// carry no link (a file from elsewhere, for 'netduel report') renders in every
// format instead of panicking on an empty loss axis.
func TestSweepWithoutLinks(t *testing.T) {
	t.Parallel()
	rep := &duel.Report{Schema: duel.Schema, Sweep: true, Results: []duel.Result{
		{Proto: duel.ProtoTCP, Test: duel.TestThroughput, GoodputBps: 1e9},
		{Proto: duel.ProtoUDP, Test: duel.TestLatency},
	}}
	for _, format := range Formats {
		var out bytes.Buffer
		if err := Render(&out, RunDoc{Report: rep}, Options{Format: format}); err != nil {
			t.Errorf("%s: %v", format, err)
		}
	}
}
