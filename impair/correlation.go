package impair

import (
	"math"
	"math/rand/v2"
)

// crandom is netem's correlated random source (sch_netem.c's get_crandom):
// with correlation ρ (a fraction of 2³², as iproute2 hands percentages to
// the kernel), each draw mixes a fresh 32-bit value with the previous draw:
// next = (value·(2³² - (ρ+1)) + last·(ρ+1)) >> 32. ρ = 0 is uncorrelated. As in
// netem, the mix narrows the draws around the middle, so a correlated
// probability P is not met at rate P (netem's known quirk, kept so a netem
// line means the same thing).
type crandom struct {
	rho  uint32
	last uint32
}

func newCrandom(corr float64) crandom { return crandom{rho: netemProb(corr)} }

func (c *crandom) next(r *rand.Rand) uint32 {
	value := r.Uint32()
	if c.rho == 0 {
		return value
	}
	rho := uint64(c.rho) + 1
	answer := uint32((uint64(value)*(1<<32-rho) + uint64(c.last)*rho) >> 32)
	c.last = answer
	return answer
}

// netemProb is a probability as iproute2 hands it to the kernel:
// rint(p × UINT32_MAX).
func netemProb(p float64) uint32 { return uint32(math.RoundToEven(min(1, max(0, p)) * math.MaxUint32)) }

// chance draws an event of probability p (> 0): uncorrelated, a float
// below p; correlated, netem's test P >= get_crandom().
func (l *Model) chance(p float64, c *crandom) bool {
	if c.rho == 0 {
		return l.r.Float64() < p
	}
	return netemProb(p) >= c.next(l.r)
}

// CorrelatedLoss is netem's "loss random P CORR": random loss whose draws
// are correlated as get_crandom makes them. A correlation of 0 is
// RandomLoss.
func CorrelatedLoss(p, corr float64) LossModel {
	if corr == 0 {
		return RandomLoss(p)
	}
	return &corrLoss{p: p, corr: corr, c: newCrandom(corr)}
}

type corrLoss struct {
	p, corr float64
	c       crandom
}

func (l *corrLoss) Drop(r *rand.Rand) bool { return l.p > 0 && netemProb(l.p) >= l.c.next(r) }

// Mean is the configured P (the correlated draws make the long-run rate
// differ, as in netem).
func (l *corrLoss) Mean() float64    { return l.p }
func (l *corrLoss) String() string   { return "random " + pct(l.p) + " " + pct(l.corr) }
func (l *corrLoss) Clone() LossModel { return &corrLoss{p: l.p, corr: l.corr, c: newCrandom(l.corr)} }

// correlated reports whether a loss model draws correlated values.
func correlated(m LossModel) bool { _, ok := m.(*corrLoss); return ok }
