package impair

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBinomialBounds checks the acceptance interval's ends against binomial
// quantiles worked by hand, and against an exact rational CDF.
func TestBinomialBounds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n        uint64
		p        float64
		klo, khi uint64
	}{
		// Bin(20, ½): P(X ≤ 2) = 211/2²⁰ = 2.0e-4 < 5e-4 ≤ P(X ≤ 3) = 1351/2²⁰.
		{20, 0.5, 3, 17},
		// Bin(10, ½): P(X = 0) = 1/1024 ≥ 5e-4: nothing is outside.
		{10, 0.5, 0, 10},
		// Bin(10, 0.1): P(X ≥ 5) = 1.6e-3, P(X ≥ 6) = 1.5e-4.
		{10, 0.1, 0, 5},
		{1000, 0, 0, 0},
		{1000, 1, 1000, 1000},
	} {
		klo, khi := binomialBounds(c.n, c.p, 0.0005)
		if klo != c.klo || khi != c.khi {
			t.Errorf("Bin(%d, %v): bounds %d..%d, want %d..%d", c.n, c.p, klo, khi, c.klo, c.khi)
		}
	}
	for _, c := range []struct {
		n uint64
		p float64
	}{{200, 0.01}, {150, 0.3}, {100, 0.97}, {200, 0.002}} {
		klo, khi := binomialBounds(c.n, c.p, 0.0005)
		cdf := exactCDF(c.n, c.p)
		below := func(k uint64) float64 { // P(X < k)
			if k == 0 {
				return 0
			}
			return cdf[k-1]
		}
		half := 0.0005
		if below(klo) >= half || below(klo+1) < half {
			t.Errorf("Bin(%d, %v): low %d: P(X<k) = %g, P(X<=k) = %g around %g", c.n, c.p, klo, below(klo), below(klo+1), half)
		}
		if 1-cdf[khi] >= half || (khi > 0 && 1-cdf[khi-1] < half) {
			t.Errorf("Bin(%d, %v): high %d: P(X>k) = %g", c.n, c.p, khi, 1-cdf[khi])
		}
	}
}

// exactCDF is the binomial CDF in exact rational arithmetic.
func exactCDF(n uint64, p float64) []float64 {
	pr, q := new(big.Rat).SetFloat64(p), new(big.Rat).SetFloat64(1-p)
	out := make([]float64, n+1)
	sum := new(big.Rat)
	for k := uint64(0); k <= n; k++ {
		term := new(big.Rat).SetInt(new(big.Int).Binomial(int64(n), int64(k)))
		term.Mul(term, new(big.Rat).SetFrac(new(big.Int).Exp(pr.Num(), big.NewInt(int64(k)), nil), new(big.Int).Exp(pr.Denom(), big.NewInt(int64(k)), nil)))
		term.Mul(term, new(big.Rat).SetFrac(new(big.Int).Exp(q.Num(), big.NewInt(int64(n-k)), nil), new(big.Int).Exp(q.Denom(), big.NewInt(int64(n-k)), nil)))
		sum.Add(sum, term)
		out[k], _ = sum.Float64()
	}
	return out
}

func TestNormalQuantile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ p, z float64 }{{0.5, 0}, {0.975, 1.959964}, {0.9995, 3.290527}, {0.0005, -3.290527}} {
		if got := normalQuantile(c.p); math.Abs(got-c.z) > 1e-6 {
			t.Errorf("normalQuantile(%v) = %v, want %v", c.p, got, c.z)
		}
	}
}

// TestMarkovVariance checks the chain's asymptotic variance against cases
// with known answers, and against the spread of simulated runs.
func TestMarkovVariance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		m    LossModel
		want float64
	}{
		// Alternating loss and delivery: the count over n packets is n/2 ± 1.
		{"periodic state", StateLoss(1, 1, 0, 1, 0), 0},
		// 'state p13' alone is Bernoulli(p13).
		{"bernoulli state", StateLoss(0.1, 0.9, 0, 1, 0), 0.09},
		// gemodel with r = 1-p and no state dependence (1-h = 1-k) is Bernoulli.
		{"flat gemodel", GELoss(0.3, 0.7, 0.8, 0.8), 0.16},
	} {
		v, ok := markovVariance(c.m)
		if !ok || math.Abs(v-c.want) > 1e-9 {
			t.Errorf("%s: variance %v (%v), want %v", c.name, v, ok, c.want)
		}
	}
	if _, ok := markovVariance(RandomLoss(0.1)); ok {
		t.Error("random loss has a Markov variance")
	}
	// Bursty gemodel: the variance of the loss count over many runs.
	m := GELoss(0.01, 0.2, 0, 1) // bad state always loses, good never
	v, _ := markovVariance(m)
	const runs, n = 400, 5000
	r := rand.New(rand.NewPCG(1, 2))
	var s, s2 float64
	for range runs {
		l := m.Clone()
		k := 0.0
		for range n {
			if l.Drop(r) {
				k++
			}
		}
		s, s2 = s+k, s2+k*k
	}
	got := (s2/runs - (s/runs)*(s/runs)) / n
	// The sample variance of 400 runs is within ±25% at about 3.5 sd.
	if got < 0.75*v || got > 1.25*v {
		t.Errorf("bursty gemodel: simulated variance per packet %v, computed %v", got, v)
	}
	if p := m.Mean(); v < 5*p*(1-p) {
		t.Errorf("bursty gemodel: variance %v not well above the binomial %v", v, p*(1-p))
	}
}

// runModel drives a Model at one packet per 100 µs and returns its tally
// with the model's delays (no pipe: lateness 0).
func runModel(cfg Config, n int) Tally {
	l := NewModel(cfg, rand.New(rand.NewPCG(7, 11)))
	var delays []time.Duration
	var last time.Duration
	var rn uint64
	var bytes uint64
	var actual time.Duration
	for i := range n {
		now := time.Duration(i) * 100 * time.Microsecond
		k, v := l.Process(now, 1000)
		for _, x := range v[:k] {
			if !x.Reordered {
				delays = append(delays, x.Depart-now)
			}
			if x.Spaced > 0 {
				rn, bytes, actual = rn+1, bytes+uint64(cfg.rateBytes(1000)), actual+x.Depart-last
			}
			last = max(last, x.Depart)
		}
	}
	tally := l.Tally()
	tally.RateN, tally.RateBytes, tally.RateActual = rn, bytes, actual
	if len(delays) > 0 {
		slices.Sort(delays)
		tally.DelayN = uint64(len(delays))
		tally.DelayP50 = delays[int(math.Ceil(0.5*float64(len(delays))))-1]
		tally.DelayP99 = delays[int(math.Ceil(0.99*float64(len(delays))))-1]
	}
	return tally
}

// TestCheckFlagsBias runs links whose model differs from the configuration
// the check is given (the test hook: Check judges a tally against any
// config) and requires the check to flag the figure, and to pass the
// unbiased link.
func TestCheckFlagsBias(t *testing.T) {
	t.Parallel()
	const n = 20000
	ge := func(p float64) Config { return Config{Loss: GELoss(p, 0.3, 0.1, 1)} }
	for _, c := range []struct {
		name         string
		said, actual Config
		fig          func(SelfCheck) *Figure
	}{
		{"loss", Config{Loss: RandomLoss(0.01)}, Config{Loss: RandomLoss(0.02)}, func(s SelfCheck) *Figure { return s.Loss }},
		{"gemodel loss", ge(0.01), ge(0.02), func(s SelfCheck) *Figure { return s.Loss }},
		{"state loss", Config{Loss: StateLoss(0.01, 0.5, 0, 1, 0)}, Config{Loss: StateLoss(0.02, 0.5, 0, 1, 0)}, func(s SelfCheck) *Figure { return s.Loss }},
		{"duplicate", Config{Duplicate: 0.01}, Config{Duplicate: 0.02}, func(s SelfCheck) *Figure { return s.Duplicate }},
		{"corrupt", Config{Corrupt: 0.05}, Config{Corrupt: 0.06}, func(s SelfCheck) *Figure { return s.Corrupt }},
		{"reorder", Config{Delay: time.Millisecond, Reorder: 0.25, ReorderGap: 5}, Config{Delay: time.Millisecond, Reorder: 0.3, ReorderGap: 5}, func(s SelfCheck) *Figure { return s.Reorder }},
		{"rate", Config{Rate: 50e6}, Config{Rate: 45e6}, func(s SelfCheck) *Figure { return s.Rate }},
		{"delay p50", Config{Delay: 10 * time.Millisecond, Jitter: time.Millisecond}, Config{Delay: 10*time.Millisecond + 200*time.Microsecond, Jitter: time.Millisecond}, func(s SelfCheck) *Figure { return s.DelayP50 }},
		{"delay p99 (normal)", Config{Delay: 10 * time.Millisecond, Jitter: time.Millisecond, Distribution: DistNormal}, Config{Delay: 10 * time.Millisecond, Jitter: 1500 * time.Microsecond, Distribution: DistNormal}, func(s SelfCheck) *Figure { return s.DelayP99 }},
		{"delay p50 (pareto)", Config{Delay: 10 * time.Millisecond, Jitter: 2 * time.Millisecond, Distribution: DistPareto}, Config{Delay: 10 * time.Millisecond, Jitter: 2 * time.Millisecond, Distribution: DistNormal}, func(s SelfCheck) *Figure { return s.DelayP50 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			good := c.fig(Check(c.said, runModel(c.said, n)))
			if good == nil || !good.OK {
				t.Fatalf("the unbiased link fails: %+v", good)
			}
			bad := c.fig(Check(c.said, runModel(c.actual, n)))
			if bad == nil || bad.OK {
				t.Fatalf("the biased link passes: %+v", bad)
			}
		})
	}
}

// TestDelayQuantile checks the configured quantiles against the shapes'
// known values.
func TestDelayQuantile(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, c := range []struct {
		cfg  Config
		q    float64
		want time.Duration
		tol  time.Duration
	}{
		{Config{Delay: 5 * ms}, 0.99, 5 * ms, 0},
		{Config{Delay: 10 * ms, Jitter: 2 * ms}, 0.5, 10 * ms, 0},
		{Config{Delay: 10 * ms, Jitter: 2 * ms}, 0.99, 11960 * time.Microsecond, 0},
		{Config{Delay: ms, Jitter: 2 * ms}, 0.1, 0, 0}, // cut at 0
		// normal: 2.326 sd at p99.
		{Config{Delay: 10 * ms, Jitter: ms, Distribution: DistNormal}, 0.99, 12326 * time.Microsecond, 5 * time.Microsecond},
		{Config{Delay: 10 * ms, Jitter: ms, Distribution: DistNormal}, 0.5, 10 * ms, 2 * time.Microsecond},
	} {
		got := delayQuantile(c.cfg, c.q)
		if got < c.want-c.tol || got > c.want+c.tol {
			t.Errorf("%s q%v: %v, want %v ± %v", c.cfg.Netem(), c.q, got, c.want, c.tol)
		}
	}
}
