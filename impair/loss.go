package impair

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// LossModel decides, packet by packet, which packets the link drops. Models with
// state (Markov chains) keep it per instance: use Clone for each direction.
type LossModel interface {
	// Drop reports whether the next packet is lost.
	Drop(r *rand.Rand) bool
	// Mean returns the long-run loss probability.
	Mean() float64
	// String returns the model in netem syntax, e.g. "random 1%".
	String() string
	// Clone returns a model with the same parameters in its initial state.
	Clone() LossModel
}

// RandomLoss drops each packet independently with probability p (netem "loss
// random P").
func RandomLoss(p float64) LossModel { return randomLoss{p} }

type randomLoss struct{ p float64 }

func (l randomLoss) Drop(r *rand.Rand) bool { return l.p > 0 && r.Float64() < l.p }
func (l randomLoss) Mean() float64          { return l.p }
func (l randomLoss) String() string         { return "random " + pct(l.p) }
func (l randomLoss) Clone() LossModel       { return l }

// States of the 4-state Markov model (netem "loss state"), as sch_netem.c
// numbers them.
const (
	txInGap     = 1 // good reception in a gap period
	txInBurst   = 2 // good reception within a burst
	lostInBurst = 3 // burst loss
	lostInGap   = 4 // isolated loss
)

// StateLoss is netem's 4-state Markov loss model ("loss state p13 [p31 [p32 [p23
// [p14]]]]"), with its transitions as sch_netem.c's loss_4state makes them: from
// 1, to 4 with p14 or to 3 with p13 (both losses); from 2, to 3 with p23 (a loss);
// from 3, to 2 with p32, to 1 with p31, else it stays and loses again; from 4,
// back to 1. Omitted parameters take iproute2's defaults: p31 = 1 - p13, p32 = 0,
// p23 = 1, p14 = 0 (a Bernoulli model with p13 alone).
func StateLoss(p13, p31, p32, p23, p14 float64) LossModel {
	return &stateLoss{p13: p13, p31: p31, p32: p32, p23: p23, p14: p14, state: txInGap}
}

type stateLoss struct {
	p13, p31, p32, p23, p14 float64
	state                   int
}

func (l *stateLoss) Drop(r *rand.Rand) bool {
	rnd := r.Float64()
	switch l.state {
	case txInGap:
		switch {
		case rnd < l.p14:
			l.state = lostInGap
			return true
		case rnd < l.p14+l.p13:
			l.state = lostInBurst
			return true
		}
	case txInBurst:
		if rnd < l.p23 {
			l.state = lostInBurst
			return true
		}
	case lostInBurst:
		switch {
		case rnd < l.p32:
			l.state = txInBurst
		case rnd < l.p32+l.p31:
			l.state = txInGap
		default:
			return true
		}
	case lostInGap:
		l.state = txInGap
	}
	return false
}

// Mean is the long-run probability that a packet is lost: the stationary
// distribution π of the chain started in state 1 (π P = π, Σ π = 1 over the
// states reachable from state 1), solved exactly by Gaussian elimination, so a
// periodic chain ('state 100% 100%' alternates loss and delivery: 50%) is
// right too. A packet is lost when the chain moves into, or stays in, a loss
// state: Mean = π3 + π4.
func (l *stateLoss) Mean() float64 {
	pi := stationary(l.matrix())
	return pi[lostInBurst-1] + pi[lostInGap-1]
}

// matrix returns P[i][j], the probability of moving from state i+1 to j+1 on
// a packet, as Drop makes the moves.
func (l *stateLoss) matrix() [4][4]float64 {
	return [4][4]float64{
		{1 - l.p13 - l.p14, 0, l.p13, l.p14},
		{0, 1 - l.p23, l.p23, 0},
		{l.p31, l.p32, 1 - l.p31 - l.p32, 0},
		{1, 0, 0, 0},
	}
}

// stationary solves π P = π, Σ π = 1 for the states reachable from the first
// (the others get 0). In this chain's shape the reachable states hold a single
// closed class, so the solution is unique.
func stationary(P [4][4]float64) [4]float64 {
	idx := reachable(P)
	n := len(idx)
	// Rows: (Pᵀ - I) π = 0 for all but the last state, then Σ π = 1.
	a := make([][]float64, n)
	b := make([]float64, n)
	for r := range n {
		a[r] = make([]float64, n)
		for c := range n {
			if r == n-1 {
				a[r][c] = 1
				continue
			}
			a[r][c] = P[idx[c]][idx[r]]
			if r == c {
				a[r][c]--
			}
		}
	}
	b[n-1] = 1
	var pi [4]float64
	for c, x := range solve(a, b) {
		pi[idx[c]] = min(1, max(0, x))
	}
	return pi
}

func (l *stateLoss) String() string {
	return fmt.Sprintf("state %s %s %s %s %s", pct(l.p13), pct(l.p31), pct(l.p32), pct(l.p23), pct(l.p14))
}

func (l *stateLoss) Clone() LossModel { c := *l; c.state = txInGap; return &c }

// GELoss is netem's Gilbert-Elliott model ("loss gemodel p [r [1-h [1-k]]]"):
// a good state that moves to bad with probability p and loses with 1-k, and a
// bad state that moves back with r and loses with 1-h. As in sch_netem.c, the
// loss decision uses the state a packet arrived in. Note the arguments: the
// caller gives h and k, not netem's 1-h and 1-k (see ParseLossModel).
// iproute2's defaults: r = 1-p, 1-h = 1 (the bad state always loses), 1-k = 0.
func GELoss(p, r, h, k float64) LossModel { return &geLoss{p: p, r: r, h: h, k: k} }

type geLoss struct {
	p, r, h, k float64
	bad        bool
}

func (l *geLoss) Drop(rng *rand.Rand) bool {
	if !l.bad {
		if rng.Float64() < l.p {
			l.bad = true
		}
		return rng.Float64() < 1-l.k
	}
	if rng.Float64() < l.r {
		l.bad = false
	}
	return rng.Float64() > l.h
}

func (l *geLoss) Mean() float64 {
	if l.p+l.r == 0 {
		return 1 - l.k // never leaves the good state
	}
	good, bad := l.r/(l.p+l.r), l.p/(l.p+l.r)
	return good*(1-l.k) + bad*(1-l.h)
}

func (l *geLoss) String() string {
	return fmt.Sprintf("gemodel %s %s %s %s", pct(l.p), pct(l.r), pct(1-l.h), pct(1-l.k))
}

func (l *geLoss) Clone() LossModel { c := *l; c.bad = false; return &c }

// ParseLossModel reads a loss model in netem syntax: "random 1% [CORR]", "1% [CORR]" (random),
// "state p13 [p31 [p32 [p23 [p14]]]]" or "gemodel p [r [1-h [1-k]]]". Each value
// is a percentage ("1%" or "1").
func ParseLossModel(s string) (LossModel, error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 {
		return nil, fmt.Errorf("empty loss model: want 'random P', 'state p13 ...' or 'gemodel p ...'")
	}
	kind := f[0]
	args := f[1:]
	if kind != "random" && kind != "state" && kind != "gemodel" {
		if _, err := ParsePercent(kind); err != nil { // netem's "loss 1%" is random loss; a word is not
			return nil, fmt.Errorf("loss model %q is not random, state or gemodel (nor a percentage, which is random loss)", kind)
		}
		kind, args = "random", f
	}
	vals := make([]float64, len(args))
	for i, a := range args {
		v, err := ParsePercent(a)
		if err != nil {
			return nil, fmt.Errorf("loss %s: %w", kind, err)
		}
		vals[i] = v
	}
	get := func(i int, def float64) float64 {
		if i < len(vals) {
			return vals[i]
		}
		return def
	}
	switch kind {
	case "random":
		if len(vals) < 1 || len(vals) > 2 {
			return nil, fmt.Errorf("loss random takes a percentage and an optional correlation, e.g. 'random 1%%' or 'random 1%% 25%%'")
		}
		return CorrelatedLoss(vals[0], get(1, 0)), nil
	case "state":
		if len(vals) < 1 || len(vals) > 5 {
			return nil, fmt.Errorf("loss state takes 1 to 5 percentages: p13 [p31 [p32 [p23 [p14]]]]")
		}
		p13 := vals[0]
		m := &stateLoss{p13: p13, p31: get(1, 1-p13), p32: get(2, 0), p23: get(3, 1), p14: get(4, 0), state: txInGap}
		if m.p13+m.p14 > 1 || m.p31+m.p32 > 1 {
			return nil, fmt.Errorf("loss state: p13+p14 and p31+p32 must each be at most 100%%")
		}
		return m, nil
	default:
		if len(vals) < 1 || len(vals) > 4 {
			return nil, fmt.Errorf("loss gemodel takes 1 to 4 percentages: p [r [1-h [1-k]]]")
		}
		p := vals[0]
		return GELoss(p, get(1, 1-p), 1-get(2, 1), 1-get(3, 0)), nil
	}
}
