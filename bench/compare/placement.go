//go:build unix

package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Where the hypervisor puts the machine's CPUs.
//
// A busy-poll round trip crosses from one CPU to the other and back, and
// every cache line it shares (the socket's queue, its locks, the message)
// crosses with it. On a virtual machine the two virtual CPUs may sit on one
// core complex or on two, and the hypervisor moves them as it likes: on the
// 2-CPU VM we measure on, a cache line's round trip between the CPUs took
// 55-100 ns or 240-390 ns, flipping every few seconds, and busy-poll round
// trips followed it (TCP p50 9-10 µs near, 14-17 µs far, both tools alike).
// Two steps measured in different placements compare the host, not the tools.
// So a busy-poll pair is probed before, between and after its two steps (a
// cache line bounced between the first two CPUs: cacheLineRTT), and measured
// again, both steps, when the probes disagree by more than placeSpread, up to
// placeAttempts times; the last attempt is kept whatever its probes say. A
// pair whose probes agree is kept in either placement, near or far.

// placeAttempts bounds how often a pair is measured; placeSpread is how far
// apart (a ratio) a pair's probes may be and still count as one placement.
const (
	placeAttempts = 3
	placeSpread   = 2.0
)

// placementStep is one step's probes: the cache line's round trip between
// the CPUs just before and just after it, in ns.
type placementStep struct {
	Round    int     `json:"round"`
	Attempt  int     `json:"attempt"`
	Tool     string  `json:"tool"`
	What     string  `json:"what"`
	BeforeNS float64 `json:"before_ns"`
	AfterNS  float64 `json:"after_ns"`
	// Kept: the step's samples count (false: its pair was measured again).
	Kept bool `json:"kept"`
	// State is "near" or "far" (both probes within placeSpread of the
	// run's fastest probe, or both beyond it), "moved" otherwise.
	State string `json:"state"`
}

// placementLog is the probes of the comparison's busy-poll steps.
type placementLog struct {
	CPUs       [2]int          `json:"cpus"`
	FastestNS  float64         `json:"fastest_ns"`
	Remeasured int             `json:"remeasured"` // pair attempts rolled back
	Steps      []placementStep `json:"steps"`
}

// probeFunc measures the cache line's round trip between the CPUs, in ns.
type probeFunc func() (float64, bool)

// agree says whether probes (all taken) are within placeSpread of each other.
func agree(probes []float64) bool {
	if len(probes) == 0 {
		return false
	}
	lo, hi := slices.Min(probes), slices.Max(probes)
	return lo > 0 && !math.IsInf(hi, 0) && hi <= placeSpread*lo
}

// classify sets the fastest probe and every step's state.
func (l *placementLog) classify() {
	if l == nil || len(l.Steps) == 0 {
		return
	}
	l.FastestNS = math.Inf(1)
	for _, s := range l.Steps {
		l.FastestNS = min(l.FastestNS, s.BeforeNS, s.AfterNS)
	}
	far := func(ns float64) bool { return ns > placeSpread*l.FastestNS }
	for i := range l.Steps {
		s := &l.Steps[i]
		switch b, a := far(s.BeforeNS), far(s.AfterNS); {
		case b && a:
			s.State = "far"
		case !b && !a:
			s.State = "near"
		default:
			s.State = "moved"
		}
	}
}

// summary is one line for the table's notes, "" without probes.
func (l *placementLog) summary() string {
	if l == nil || len(l.Steps) == 0 {
		return ""
	}
	l.classify()
	count := map[string]map[string]int{}
	var tools []string
	for _, s := range l.Steps {
		if !s.Kept {
			continue
		}
		if count[s.Tool] == nil {
			count[s.Tool] = map[string]int{}
			tools = append(tools, s.Tool)
		}
		count[s.Tool][s.State]++
	}
	var parts []string
	for _, t := range tools {
		c := count[t]
		parts = append(parts, fmt.Sprintf("%s %d near, %d far, %d moved", t, c["near"], c["far"], c["moved"]))
	}
	return fmt.Sprintf("CPU placement (a cache line's round trip between CPUs %d and %d, fastest %.0f ns; far: over %gx that): busy-poll steps kept: %s; %d pair attempt(s) measured again after the placement changed mid-pair",
		l.CPUs[0], l.CPUs[1], l.FastestNS, placeSpread, strings.Join(parts, "; "), l.Remeasured)
}

// sampleMark is how many samples and notes every metric had, to roll a
// pair's attempt back to.
type sampleMark [][6]int

func (c *comparison) markSamples() sampleMark {
	m := make(sampleMark, len(c.metrics))
	for i, x := range c.metrics {
		m[i] = [6]int{len(x.Netduel), len(x.Competitor), len(x.NetduelLossPct), len(x.CompetitorLossPct), len(x.NetduelCPU), len(x.CompetitorCPU)}
	}
	return m
}

// rollback drops the samples taken since m (notes stay: they say how a step
// ran, and the next attempt runs the same way).
func (c *comparison) rollback(m sampleMark) {
	for i, x := range c.metrics {
		n := m[i]
		x.Netduel, x.Competitor = x.Netduel[:n[0]], x.Competitor[:n[1]]
		x.NetduelLossPct, x.CompetitorLossPct = x.NetduelLossPct[:n[2]], x.CompetitorLossPct[:n[3]]
		x.NetduelCPU, x.CompetitorCPU = x.NetduelCPU[:n[4]], x.CompetitorCPU[:n[5]]
	}
}

// runPlaced runs a pair's steps (in this round's order) with run, probing the
// placement before, between and after them, and again from the start while
// the probes disagree (see placeAttempts); false stops the rounds.
func (c *comparison) runPlaced(group []step, run func(step) bool, logf func(string, ...any)) bool {
	steps := inOrder(group, c.round)
	for attempt := 1; ; attempt++ {
		mark := c.markSamples()
		probes := make([]float64, 0, len(steps)+1)
		p, ok := c.probe()
		recs := make([]placementStep, 0, len(steps))
		for _, s := range steps {
			before := p
			probes = append(probes, p)
			if !run(s) {
				return false
			}
			var ok2 bool
			p, ok2 = c.probe()
			ok = ok && ok2
			recs = append(recs, placementStep{Round: c.round, Attempt: attempt, Tool: s.tool, What: s.what, BeforeNS: before, AfterNS: p})
		}
		probes = append(probes, p)
		same := ok && agree(probes)
		keep := same || attempt >= placeAttempts
		for i := range recs {
			recs[i].Kept = keep
		}
		c.placement.Steps = append(c.placement.Steps, recs...)
		if keep {
			return true
		}
		c.placement.Remeasured++
		c.rollback(mark)
		logf("round %d: the CPUs' placement changed during %s (a cache line's round trip: %s ns): measuring the pair again", c.round, steps[0].what, probeText(probes))
	}
}

func probeText(ps []float64) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("%.0f", p)
	}
	return strings.Join(s, ", ")
}
