//go:build unix

package main

import (
	"context"
	"encoding/json"
	"math"
	"slices"
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
		name      string
		probes    []float64
		attempts  int // how many times each step ran
		kept      int // the attempt whose samples are left
		remeas    int
		unsettled int
	}{
		{"steady", []float64{60, 65, 70}, 1, 1, 0, 0},
		{"far throughout", []float64{340, 360, 350}, 1, 1, 0, 0},
		{"moved once", []float64{60, 340, 350, 60, 62, 61}, 2, 2, 1, 0},
		{"settles in the last attempt", []float64{60, 340, 60, 60, 340, 60, 60, 340, 60, 60, 340, 60, 60, 61, 62}, placeAttempts, placeAttempts, placeAttempts - 1, 0},
		// Spreads 5.7, 2.5, 8, 3, 2.5: the closest, the later of equals.
		{"moved every time: the closest kept", []float64{60, 340, 60, 100, 250, 100, 40, 320, 40, 100, 300, 100, 100, 250, 100}, placeAttempts, placeAttempts, placeAttempts - 1, 1},
		{"moved every time: an early one closest", []float64{60, 340, 60, 100, 210, 100, 40, 320, 40, 100, 300, 100, 100, 250, 100}, placeAttempts, 2, placeAttempts - 1, 1},
		{"failed probes are the farthest", []float64{60, 0, 60, 60, 340, 60, 60, 0, 60, 60, 0, 60, 60, 0, 60}, placeAttempts, 2, placeAttempts - 1, 1},
		{"probe failed", []float64{60, 0, 60, 60, 61, 62}, 2, 2, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
			c.round = 1
			c.probe, c.placement = scriptedProbe(tc.probes...), &placementLog{}
			c.add(mUDPBusyp50, true, -1) // an earlier round's samples stay
			c.add(mUDPBusyp50, false, -2)
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
			// Only the kept attempt's samples are left, after the earlier
			// ones.
			if len(m.Netduel) != 2 || m.Netduel[1] != float64(tc.kept) || len(m.Competitor) != 2 || m.Competitor[1] != float64(tc.kept) || m.Netduel[0] != -1 || m.Competitor[0] != -2 {
				t.Errorf("samples %v / %v, want the earlier one and one each from attempt %d", m.Netduel, m.Competitor, tc.kept)
			}
			if c.placement.Remeasured != tc.remeas || c.placement.Unsettled != tc.unsettled || len(c.placement.Steps) != 2*tc.attempts {
				t.Errorf("remeasured %d, unsettled %d, %d steps; want %d, %d, %d", c.placement.Remeasured, c.placement.Unsettled, len(c.placement.Steps), tc.remeas, tc.unsettled, 2*tc.attempts)
			}
			for i, s := range c.placement.Steps {
				if want := i/2+1 == tc.kept; s.Kept != want || s.Attempt != i/2+1 {
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

func TestKeepSince(t *testing.T) {
	t.Parallel()
	c := newComparison(&options{rounds: 1, duration: time.Second}, "netduel", ports{})
	c.add(mUDPGoodput, true, 1)
	c.metrics[mUDPGoodput].NetduelLossPct = []float64{0.1}
	from := c.markSamples()
	c.add(mUDPGoodput, true, 2) // attempt 1
	c.add(mUDPGoodput, false, 3)
	c.metrics[mUDPGoodput].NetduelLossPct = append(c.metrics[mUDPGoodput].NetduelLossPct, 0.2)
	c.metrics[mTCPCPU].NetduelCPU = append(c.metrics[mTCPCPU].NetduelCPU, cpuSample{})
	lo := c.markSamples()
	c.add(mUDPGoodput, true, 4) // attempt 2, kept
	c.add(mUDPGoodput, false, 5)
	hi := c.markSamples()
	c.add(mUDPGoodput, true, 6) // attempt 3
	c.note(mUDPGoodput, "kept")
	c.keepSince(from, lo, hi)
	m := c.metrics[mUDPGoodput]
	if !slices.Equal(m.Netduel, []float64{1, 4}) || !slices.Equal(m.Competitor, []float64{5}) || !slices.Equal(m.NetduelLossPct, []float64{0.1}) || len(c.metrics[mTCPCPU].NetduelCPU) != 0 || len(m.Notes) != 1 {
		t.Errorf("after keepSince: %+v, cpu %v", m, c.metrics[mTCPCPU].NetduelCPU)
	}
	c.keepSince(from, from, from) // none
	if !slices.Equal(c.metrics[mUDPGoodput].Netduel, []float64{1}) || len(c.metrics[mUDPGoodput].Competitor) != 0 {
		t.Errorf("after keeping none: %+v", c.metrics[mUDPGoodput])
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
