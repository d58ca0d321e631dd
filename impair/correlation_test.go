package impair

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// lag1 is the sample lag-1 autocorrelation of xs.
func lag1(xs []float64) float64 {
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var num, den float64
	for i, x := range xs {
		den += (x - m) * (x - m)
		if i > 0 {
			num += (x - m) * (xs[i-1] - m)
		}
	}
	return num / den
}

// TestCrandom checks netem's correlated draws against the arithmetic's
// consequences: next = (1-a)·value + a·last with a = (ρ+1)/2³² is an AR(1)
// process of uniform innovations, so its lag-1 autocorrelation is a, its mean
// that of a uniform draw, and its variance (1-a)/(1+a) of a uniform's. A
// swapped weight (a·value + (1-a)·last) or a missing mix fails all three.
func TestCrandom(t *testing.T) {
	t.Parallel()
	const n = 200_000
	for _, corr := range []float64{0, 0.25, 0.5, 0.75} {
		c := newCrandom(corr)
		r := rand.New(rand.NewPCG(5, uint64(corr*100)))
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(c.next(r)) / (1 << 32)
		}
		a := corr
		if got := lag1(xs[100:]); math.Abs(got-a) > 0.01 {
			t.Errorf("corr %v: lag-1 autocorrelation %.4f, want %.4f", corr, got, a)
		}
		var m, v float64
		for _, x := range xs[100:] {
			m += x
		}
		m /= float64(n - 100)
		for _, x := range xs[100:] {
			v += (x - m) * (x - m)
		}
		v /= float64(n - 100)
		want := (1 - a) / (1 + a) / 12
		if math.Abs(m-0.5) > 0.005 || math.Abs(v-want) > 0.03*want {
			t.Errorf("corr %v: mean %.4f (want 0.5), variance %.5f (want %.5f)", corr, m, v, want)
		}
	}
}

// TestNetemProb: iproute2 hands a percentage to the kernel as
// rint(p × UINT32_MAX).
func TestNetemProb(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p    float64
		want uint32
	}{{0, 0}, {1, math.MaxUint32}, {0.25, 1073741824}, {0.01, 42949673}} {
		if got := netemProb(c.p); got != c.want {
			t.Errorf("netemProb(%v) = %d, want %d", c.p, got, c.want)
		}
	}
}

// TestCorrelatedDecisions runs each correlated option through a Model: the
// decisions' lag-1 autocorrelation is clearly positive with a correlation
// and near 0 without; the netem line carries it.
func TestCorrelatedDecisions(t *testing.T) {
	t.Parallel()
	const n = 50_000
	for _, c := range []struct {
		name  string
		cfg   func(corr float64) Config
		event func(k int, v [2]Verdict, now time.Duration) float64
		netem string
	}{
		{"loss", func(c float64) Config { return Config{Loss: CorrelatedLoss(0.5, c)} },
			func(k int, _ [2]Verdict, _ time.Duration) float64 { return float64(1 - k) }, "loss random 50% 50%"},
		{"duplicate", func(c float64) Config { return Config{Duplicate: 0.5, DuplicateCorr: c} },
			func(k int, _ [2]Verdict, _ time.Duration) float64 { return float64(k - 1) }, "duplicate 50% 50%"},
		{"corrupt", func(c float64) Config { return Config{Corrupt: 0.5, CorruptCorr: c} },
			func(_ int, v [2]Verdict, _ time.Duration) float64 { return b2f(v[0].CorruptBit >= 0) }, "corrupt 50% 50%"},
		{"reorder", func(c float64) Config { return Config{Delay: time.Millisecond, Reorder: 0.5, ReorderCorr: c} },
			func(_ int, v [2]Verdict, _ time.Duration) float64 { return b2f(v[0].Reordered) }, "delay 1ms reorder 50% 50%"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.cfg(0.5).Netem(); got != c.netem {
				t.Errorf("netem %q, want %q", got, c.netem)
			}
			for _, corr := range []float64{0, 0.5} {
				l := NewModel(c.cfg(corr), rand.New(rand.NewPCG(9, 9)))
				xs := make([]float64, n)
				for i := range xs {
					now := time.Duration(i) * time.Second // the queue drains between packets
					k, v := l.Process(now, 100)
					xs[i] = c.event(k, v, now)
				}
				got := lag1(xs)
				t.Logf("correlation %v: lag-1 %.3f", corr, got)
				if corr == 0 && math.Abs(got) > 0.03 || corr > 0 && got < 0.2 {
					t.Errorf("correlation %v: lag-1 autocorrelation %.3f", corr, got)
				}
			}
		})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestCorrelatedDelay: netem draws a correlated delay as tabledist does,
// (rnd mod 2σ) + μ - σ (uniform) or table[rnd mod size], with rnd from
// get_crandom, computed here from the definition on the same random stream.
// The modulo keeps only the draw's low bits, so the delays come out nearly
// uncorrelated: netem's known quirk, kept.
func TestCorrelatedDelay(t *testing.T) {
	t.Parallel()
	const n = 20_000
	mu, sigma := 10*time.Millisecond, 5*time.Millisecond
	for _, dist := range []Distribution{DistUniform, DistNormal} {
		cfg := Config{Delay: mu, Jitter: sigma, DelayCorr: 0.25, Distribution: dist}
		l := NewModel(cfg, rand.New(rand.NewPCG(3, 4)))
		ref := rand.New(rand.NewPCG(3, 4))
		rho := uint64(math.RoundToEven(0.25*math.MaxUint32)) + 1
		var last uint64
		xs := make([]float64, n)
		for i := range xs {
			now := time.Duration(i) * time.Second
			_, v := l.Process(now, 100)
			last = (uint64(ref.Uint32())*(1<<32-rho) + last*rho) >> 32
			want := int64(last%uint64(2*sigma)) + int64(mu-sigma)
			if dist != DistUniform {
				tab := distTable(dist)
				want = tabledist(int64(mu), int64(sigma), tab[last%uint64(len(tab))])
			}
			if got := int64(v[0].Depart - now); got != max(0, want) {
				t.Fatalf("%v packet %d: delay %d, want %d", dist, i, got, want)
			}
			xs[i] = float64(v[0].Depart - now)
		}
		if got := lag1(xs); math.Abs(got) > 0.05 {
			t.Errorf("%v: lag-1 autocorrelation %.3f: netem's modulo leaves delays nearly uncorrelated", dist, got)
		}
	}
}

// TestCorrelatedSmallLoss: netem's 'loss 1% 25%' almost never drops (the
// mix keeps the draws away from 0; about 5 per million). A model that drew
// an independent P (or mixed the other way) drops near 1%.
func TestCorrelatedSmallLoss(t *testing.T) {
	t.Parallel()
	m := CorrelatedLoss(0.01, 0.25)
	r := rand.New(rand.NewPCG(1, 1))
	const n = 1_000_000
	lost := 0
	for range n {
		if m.Drop(r) {
			lost++
		}
	}
	if lost > 100 {
		t.Errorf("loss 1%% 25%%: %d of %d dropped, netem's arithmetic drops about 5", lost, n)
	}
}
