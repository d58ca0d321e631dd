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
// placeAttempts times; when no attempt's probes agree, the attempt whose
// probes were closest is kept, and the pair is counted as unsettled. A pair
// whose probes agree is kept in either placement, near or far.

// placeAttempts bounds how often a pair is measured; placeSpread is how far
// apart (a ratio) a pair's probes may be and still count as one placement.
const (
	placeAttempts = 5
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
	CPUs       [2]int  `json:"cpus"`
	FastestNS  float64 `json:"fastest_ns"`
	Remeasured int     `json:"remeasured"` // pair attempts rolled back
	// Unsettled counts the pairs whose every attempt's probes disagreed
	// (the closest attempt was kept).
	Unsettled int             `json:"unsettled"`
	Steps     []placementStep `json:"steps"`
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
	return fmt.Sprintf("CPU placement (a cache line's round trip between CPUs %d and %d, fastest %.0f ns; far: over %gx that): busy-poll steps kept: %s; %d pair attempt(s) measured again after the placement changed mid-pair; %d pair(s) kept though it changed in each of their %d attempts (the closest kept)",
		l.CPUs[0], l.CPUs[1], l.FastestNS, placeSpread, strings.Join(parts, "; "), l.Remeasured, l.Unsettled, placeAttempts)
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

// keepSince keeps, of the samples taken since from, those between lo and hi
// (marks taken since from, in order): one attempt's. Notes stay: they say how
// a step ran, and every attempt runs the same way.
func (c *comparison) keepSince(from, lo, hi sampleMark) {
	for i, x := range c.metrics {
		f, l, h := from[i], lo[i], hi[i]
		x.Netduel, x.Competitor = keepRange(x.Netduel, f[0], l[0], h[0]), keepRange(x.Competitor, f[1], l[1], h[1])
		x.NetduelLossPct, x.CompetitorLossPct = keepRange(x.NetduelLossPct, f[2], l[2], h[2]), keepRange(x.CompetitorLossPct, f[3], l[3], h[3])
		x.NetduelCPU, x.CompetitorCPU = keepRange(x.NetduelCPU, f[4], l[4], h[4]), keepRange(x.CompetitorCPU, f[5], l[5], h[5])
	}
}

// keepRange is s[:from] followed by s[lo:hi] (from <= lo <= hi).
func keepRange[T any](s []T, from, lo, hi int) []T { return append(s[:from], s[lo:hi]...) }

// spread is how far apart an attempt's probes are (the largest over the
// smallest), +Inf when one failed.
func spread(probes []float64, ok bool) float64 {
	if !ok || len(probes) == 0 || slices.Min(probes) <= 0 {
		return math.Inf(1)
	}
	return slices.Max(probes) / slices.Min(probes)
}

// runPlaced runs a pair's steps (in this round's order) with run, probing the
// placement before, between and after them, and again from the start while
// the probes disagree, up to placeAttempts times (see placeAttempts); false
// stops the rounds. The first attempt whose probes agree is kept; when none
// did, the one whose probes were closest (the later of equals), and the
// pair counts as unsettled.
func (c *comparison) runPlaced(group []step, run func(step) bool, logf func(string, ...any)) bool {
	steps := inOrder(group, c.round)
	var (
		marks   []sampleMark // where each attempt's samples begin
		spreads []float64
		recs    [][]placementStep
		settled bool
	)
	for attempt := 1; attempt <= placeAttempts && !settled; attempt++ {
		marks = append(marks, c.markSamples())
		probes := make([]float64, 0, len(steps)+1)
		p, ok := c.probe()
		rec := make([]placementStep, 0, len(steps))
		for _, s := range steps {
			before := p
			probes = append(probes, p)
			if !run(s) {
				return false
			}
			var ok2 bool
			p, ok2 = c.probe()
			ok = ok && ok2
			rec = append(rec, placementStep{Round: c.round, Attempt: attempt, Tool: s.tool, What: s.what, BeforeNS: before, AfterNS: p})
		}
		probes = append(probes, p)
		settled = ok && agree(probes)
		spreads, recs = append(spreads, spread(probes, ok)), append(recs, rec)
		if !settled && attempt < placeAttempts {
			logf("round %d: the CPUs' placement changed during %s (a cache line's round trip: %s ns): measuring the pair again", c.round, steps[0].what, probeText(probes))
		}
	}
	best := len(recs) - 1
	if !settled {
		for i, sp := range spreads {
			if sp <= spreads[best] {
				best = i
			}
		}
		c.placement.Unsettled++
		logf("round %d: %s: the placement changed during each of %d attempts; kept attempt %d, whose probes were closest", c.round, steps[0].what, len(recs), best+1)
	}
	hi := c.markSamples()
	if best+1 < len(marks) {
		hi = marks[best+1]
	}
	c.keepSince(marks[0], marks[best], hi)
	for i, rec := range recs {
		for j := range rec {
			rec[j].Kept = i == best
		}
		c.placement.Steps = append(c.placement.Steps, rec...)
	}
	c.placement.Remeasured += len(recs) - 1
	return true
}

func probeText(ps []float64) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("%.0f", p)
	}
	return strings.Join(s, ", ")
}
