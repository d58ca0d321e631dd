package duel

import (
	"testing"

	"github.com/netduel/netduel/impair"
)

// TestPlanDescribe: what a report says of where a plan runs, before it runs
// (NDJSON's start event), is what Run says after (the start event of an
// embedded run said server "", embedded false, network os).
func TestPlanDescribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		plan    Plan
		want    Report
		network string
	}{
		{"remote", Plan{}, Report{Network: "os", Server: "127.0.0.1:9400"}, "os"},
		{"loopback only", Plan{Cells: []Cell{{}}}, Report{Network: "os", Server: "127.0.0.1", Embedded: true}, "os"},
		{"loopback then a link", Plan{Cells: DefaultCells(1)}, Report{Network: NetworkLinks, Server: "127.0.0.1", Embedded: true}, NetworkLinks},
		{"a link first", Plan{Cells: []Cell{{Link: &impair.Config{Loss: impair.RandomLoss(0.01)}}}, Sweep: true},
			Report{Network: NetworkLinks, Server: "198.18.0.2", Embedded: true, Sweep: true}, NetworkLinks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Report{Network: "os"}
			if tc.name == "remote" {
				rep.Server = "127.0.0.1:9400"
			}
			tc.plan.Describe(&rep)
			if rep.Server != tc.want.Server || rep.Embedded != tc.want.Embedded || rep.Network != tc.network || rep.Sweep != tc.want.Sweep {
				t.Fatalf("%+v, want %+v", rep, tc.want)
			}
		})
	}
}
