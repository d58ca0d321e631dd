//go:build unix

package main

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAgree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		probes []float64
		want   bool
	}{
		{[]float64{60, 70, 65}, true},
		{[]float64{340, 360, 380}, true}, // far throughout: one placement
		{[]float64{60, 340, 65}, false},  // far between the steps
		{[]float64{60, 120, 65}, true},   // exactly placeSpread
		{[]float64{60, 121, 65}, false},
		{[]float64{0, 60}, false}, // a probe that failed
		{[]float64{60, math.Inf(1)}, false},
		{nil, false},
	} {
		if got := agree(tc.probes); got != tc.want {
			t.Errorf("agree(%v) = %v, want %v", tc.probes, got, tc.want)
		}
	}
}

func TestPlacementSummary(t *testing.T) {
	t.Parallel()
	var l *placementLog
	if l.summary() != "" {
		t.Error("no log: want no note")
	}
	l = &placementLog{CPUs: [2]int{0, 1}, Remeasured: 1, Steps: []placementStep{
		{Tool: "netduel", BeforeNS: 60, AfterNS: 70, Kept: true},
		{Tool: "sockperf", BeforeNS: 70, AfterNS: 65, Kept: true},
		{Tool: "netduel", BeforeNS: 340, AfterNS: 360, Kept: true},
		{Tool: "sockperf", BeforeNS: 360, AfterNS: 64, Kept: true},
		{Tool: "netduel", BeforeNS: 64, AfterNS: 350, Kept: false}, // rolled back: not counted
	}}
	s := l.summary()
	for _, want := range []string{"CPUs 0 and 1, fastest 60 ns", "netduel 1 near, 1 far, 0 moved", "sockperf 1 near, 0 far, 1 moved", "1 pair attempt(s) measured again"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	if got := []string{l.Steps[0].State, l.Steps[2].State, l.Steps[3].State}; got[0] != "near" || got[1] != "far" || got[2] != "moved" {
		t.Errorf("states %v", got)
	}
}

// scriptedProbe returns the values given, in order, then the last forever.
func scriptedProbe(vs ...float64) probeFunc {
	i := 0
	return func() (float64, bool) {
		v := vs[min(i, len(vs)-1)]
		i++
		return v, v > 0
	}
}

func TestRunPlaced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		probes   []float64
		attempts int // how many times each step ran
		remeas   int
	}{
		{"steady", []float64{60, 65, 70}, 1, 0},
		{"far throughout", []float64{340, 360, 350}, 1, 0},
		{"moved once", []float64{60, 340, 350, 60, 62, 61}, 2, 1},
		{"moved every time: the last kept", []float64{60, 340, 60, 60, 340, 60, 60, 340, 60}, placeAttempts, placeAttempts - 1},
		{"probe failed", []float64{60, 0, 60, 60, 61, 62}, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
			c.round = 1
			c.probe, c.placement = scriptedProbe(tc.probes...), &placementLog{}
			ran := map[string]int{}
			// Each run of a step records a sample that says which attempt it was.
			group := placed(
				step{tool: "netduel", what: "UDP round trip (--busy-poll)", run: func(context.Context) error { return nil }},
				step{tool: "sockperf", what: "UDP round trip (busy)", run: func(context.Context) error { return nil }})
			run := func(s step) bool {
				ran[s.tool]++
				c.add(mUDPBusyp50, s.tool == "netduel", float64(ran[s.tool]))
				return true
			}
			if !c.runPlaced(group, run, t.Logf) {
				t.Fatal("stopped")
			}
			m := c.metrics[mUDPBusyp50]
			if ran["netduel"] != tc.attempts || ran["sockperf"] != tc.attempts {
				t.Errorf("ran %v, want %d each", ran, tc.attempts)
			}
			// Only the last attempt's samples are left.
			if len(m.Netduel) != 1 || m.Netduel[0] != float64(tc.attempts) || len(m.Competitor) != 1 || m.Competitor[0] != float64(tc.attempts) {
				t.Errorf("samples %v / %v, want one each from attempt %d", m.Netduel, m.Competitor, tc.attempts)
			}
			if c.placement.Remeasured != tc.remeas || len(c.placement.Steps) != 2*tc.attempts {
				t.Errorf("remeasured %d, %d steps; want %d, %d", c.placement.Remeasured, len(c.placement.Steps), tc.remeas, 2*tc.attempts)
			}
			for i, s := range c.placement.Steps {
				if want := i >= 2*(tc.attempts-1); s.Kept != want || s.Attempt != i/2+1 {
					t.Errorf("step %d: kept %v attempt %d", i, s.Kept, s.Attempt)
				}
			}
		})
	}
}

func TestRunPlacedStops(t *testing.T) {
	t.Parallel()
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	c.round = 2 // even: the pair runs in reverse
	c.probe, c.placement = scriptedProbe(60), &placementLog{}
	var order []string
	group := placed(step{tool: "netduel"}, step{tool: "sockperf"})
	if c.runPlaced(group, func(s step) bool { order = append(order, s.tool); return false }, t.Logf) {
		t.Error("a step that stops the rounds: want false")
	}
	if len(order) != 1 || order[0] != "sockperf" {
		t.Errorf("ran %v, want sockperf alone (round 2 reverses the pair)", order)
	}
}

func TestRollback(t *testing.T) {
	t.Parallel()
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	c.add(mUDPGoodput, true, 1)
	c.metrics[mUDPGoodput].NetduelLossPct = []float64{0.1}
	mark := c.markSamples()
	c.add(mUDPGoodput, true, 2)
	c.add(mUDPGoodput, false, 3)
	c.metrics[mUDPGoodput].NetduelLossPct = append(c.metrics[mUDPGoodput].NetduelLossPct, 0.2)
	c.metrics[mTCPCPU].NetduelCPU = append(c.metrics[mTCPCPU].NetduelCPU, cpuSample{})
	c.note(mUDPGoodput, "kept")
	c.rollback(mark)
	m := c.metrics[mUDPGoodput]
	if len(m.Netduel) != 1 || len(m.Competitor) != 0 || len(m.NetduelLossPct) != 1 || len(c.metrics[mTCPCPU].NetduelCPU) != 0 || len(m.Notes) != 1 {
		t.Errorf("after rollback: %+v, cpu %v", m, c.metrics[mTCPCPU].NetduelCPU)
	}
}

func TestPlacementJSON(t *testing.T) {
	t.Parallel()
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	if b, _ := json.Marshal(c.document()); strings.Contains(string(b), "placement") {
		t.Errorf("no probe: want no placement in %s", b)
	}
	c.placement = &placementLog{CPUs: [2]int{0, 1}, Steps: []placementStep{{Round: 1, Attempt: 1, Tool: "netduel", What: "x", BeforeNS: 300, AfterNS: 60, Kept: true}}}
	b, err := json.Marshal(c.document())
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Placement placementLog `json:"placement"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Placement.FastestNS != 60 || len(d.Placement.Steps) != 1 || d.Placement.Steps[0].State != "moved" {
		t.Errorf("placement %+v", d.Placement)
	}
}
