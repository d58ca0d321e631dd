package impair

import (
	"math"
	"time"
)

// Tally counts the link's random decisions in one direction, for the
// self-check: each decision is a trial of a configured probability, and the
// count of outcomes is binomial (a Markov loss model's is not: see Check).
type Tally struct {
	LossTrials, Lost         uint64 // loss decisions (a duplicate takes its own), and drops among them
	DupTrials, Duplicated    uint64 // duplicate decisions (one per packet), and copies made
	CorruptTrials, Corrupted uint64 // corrupt decisions (one per copy), and bits flipped
	ReorderTrials, Reordered uint64 // reorder decisions (packets the gap let through), and packets sent at once
	DelayN                   uint64 // delivered copies, not reordered, whose delay is in the delay quantiles
	DelayP50, DelayP99       time.Duration
	RateN                    uint64        // copies that left back to back, spaced by the rate alone
	RateBytes                uint64        // their length as the rate counts it (L2 frame, overhead, cells)
	RateActual               time.Duration // their actual spacing, each after the previous copy
}

func (t Tally) sub(b Tally) Tally {
	d := func(x, y uint64) uint64 { return x - min(x, y) }
	t.LossTrials, t.Lost = d(t.LossTrials, b.LossTrials), d(t.Lost, b.Lost)
	t.DupTrials, t.Duplicated = d(t.DupTrials, b.DupTrials), d(t.Duplicated, b.Duplicated)
	t.CorruptTrials, t.Corrupted = d(t.CorruptTrials, b.CorruptTrials), d(t.Corrupted, b.Corrupted)
	t.ReorderTrials, t.Reordered = d(t.ReorderTrials, b.ReorderTrials), d(t.Reordered, b.Reordered)
	return t
}

// Figure is one figure of the link's self-check: what the configuration
// implies (Configured), what the link did (Measured), the interval the
// measurement must fall in at ConfidenceLevel (Low, High), the number of
// trials or samples (N), and whether it is in (OK). Probabilities are
// fractions, delays seconds, the rate bits per second.
type Figure struct {
	Configured, Measured, Low, High float64
	N                               uint64
	OK                              bool
}

// SelfCheck is one direction's self-check; a nil figure was not configured,
// or the link made no trial of it.
type SelfCheck struct {
	Loss, DelayP50, DelayP99, Rate, Duplicate, Reorder, Corrupt *Figure
}

// OK reports whether every figure is within its interval.
func (s SelfCheck) OK() bool {
	for _, f := range s.Figures() {
		if f != nil && !f.OK {
			return false
		}
	}
	return true
}

// Figures lists the figures in a fixed order (loss, delay p50, delay p99,
// rate, duplicate, reorder, corrupt), nil where absent.
func (s SelfCheck) Figures() []*Figure {
	return []*Figure{s.Loss, s.DelayP50, s.DelayP99, s.Rate, s.Duplicate, s.Reorder, s.Corrupt}
}

// ConfidenceLevel is the self-check's two-sided confidence: a correct link
// fails a given figure once in a thousand runs.
const ConfidenceLevel = 0.999

// Allowances for what the emulator itself adds, beyond the model's delay
// (the design targets are 20 µs at p50 and 200 µs at p99: the link line's
// added delay shows the actual), and for the achieved rate.
const (
	DelaySlackP50 = 100 * time.Microsecond
	DelaySlackP99 = time.Millisecond
	RateTolerance = 0.05 // ±5% of the configured rate
	minRateN      = 100  // back-to-back copies needed to judge the rate
)

// Check compares what one direction of a link did (t) with what cfg
// configures. Each count of outcomes must fall in its acceptance interval at
// ConfidenceLevel: the exact binomial quantiles of the configured
// probability over the trials made (the dual of the Clopper-Pearson
// interval). Loss is judged against the model's stationary loss; for a
// Markov model (state, gemodel), whose losses are correlated, the interval
// is the normal one from the chain's asymptotic variance, widened by one
// packet each side. Duplication, corruption and reordering (per decision the
// gap allows) are binomial. Delay p50 and p99 must fall between the
// configured distribution's quantiles at the binomial bounds of the rank
// (distribution-free order statistics), plus DelaySlackP50/P99 on the high
// side (not checked when a rate is set: its queue adds delay); the achieved
// rate, over copies that left back to back, must be within RateTolerance.
// A figure with a netem correlation is not checked: its draws are neither
// independent nor, in netem's arithmetic, at the configured rate.
func Check(cfg Config, t Tally) SelfCheck {
	var s SelfCheck
	if cfg.lossActive() && t.LossTrials > 0 && !correlated(cfg.Loss) {
		p, n := cfg.Loss.Mean(), float64(t.LossTrials)
		lo, hi := binomialInterval(t.LossTrials, p)
		if v, ok := markovVariance(cfg.Loss); ok {
			half := z999*math.Sqrt(v/n) + 1/n
			lo, hi = max(0, p-half), min(1, p+half)
		}
		s.Loss = figure(p, ratio(t.Lost, t.LossTrials), lo, hi, t.LossTrials)
	}
	if cfg.DuplicateCorr == 0 {
		s.Duplicate = binomialFigure(cfg.Duplicate, t.Duplicated, t.DupTrials)
	}
	if cfg.CorruptCorr == 0 {
		s.Corrupt = binomialFigure(cfg.Corrupt, t.Corrupted, t.CorruptTrials)
	}
	if cfg.ReorderCorr == 0 {
		s.Reorder = binomialFigure(cfg.Reorder, t.Reordered, t.ReorderTrials)
	}
	if (cfg.Delay > 0 || cfg.Jitter > 0) && cfg.Rate == 0 && t.DelayN > 0 && cfg.DelayCorr == 0 {
		s.DelayP50 = delayFigure(cfg, 0.5, t.DelayP50, t.DelayN, DelaySlackP50)
		s.DelayP99 = delayFigure(cfg, 0.99, t.DelayP99, t.DelayN, DelaySlackP99)
	}
	if cfg.Rate > 0 && t.RateN >= minRateN && t.RateActual > 0 {
		got := float64(8*t.RateBytes) / t.RateActual.Seconds()
		s.Rate = figure(cfg.Rate, got, cfg.Rate*(1-RateTolerance), cfg.Rate*(1+RateTolerance), t.RateN)
	}
	return s
}

func ratio(k, n uint64) float64 { return float64(k) / float64(n) }

func figure(conf, got, lo, hi float64, n uint64) *Figure {
	return &Figure{Configured: conf, Measured: got, Low: lo, High: hi, N: n, OK: got >= lo && got <= hi}
}

func binomialFigure(p float64, k, n uint64) *Figure {
	if p <= 0 || n == 0 {
		return nil
	}
	lo, hi := binomialInterval(n, p)
	return figure(p, ratio(k, n), lo, hi, n)
}

// delayFigure checks the delay's q-quantile: with n samples the rank of the
// measured quantile is binomial, so at ConfidenceLevel the measurement lies
// between the configured distribution's quantiles at the rank's bounds.
func delayFigure(cfg Config, q float64, got time.Duration, n uint64, slack time.Duration) *Figure {
	qlo, qhi := binomialInterval(n, q)
	lo := delayQuantile(cfg, qlo).Seconds() * (1 - histPrecision)
	hi := (delayQuantile(cfg, qhi) + slack).Seconds() * (1 + histPrecision)
	return figure(delayQuantile(cfg, q).Seconds(), got.Seconds(), lo, hi, n)
}

// histPrecision is the relative resolution of the delay histogram (three
// significant digits).
const histPrecision = 1e-3

// delayQuantile is the configured delay's q-quantile, as Model.delay draws
// it: Delay ± Jitter evenly, or a table's entry scaled by tabledist.
func delayQuantile(cfg Config, q float64) time.Duration {
	if cfg.Jitter == 0 {
		return cfg.Delay
	}
	mu, sigma := int64(cfg.Delay), int64(cfg.Jitter)
	t := distTable(cfg.Distribution)
	if t == nil {
		return time.Duration(max(0, mu+int64(math.Round(float64(sigma)*(2*q-1)))))
	}
	i := min(len(t)-1, max(0, int(math.Ceil(q*float64(len(t))))-1)) // tables are ascending
	return time.Duration(max(0, tabledist(mu, sigma, t[i])))
}

// binomialInterval is the acceptance interval, as fractions of n, of a
// count of successes in n trials of probability p at ConfidenceLevel: from
// the smallest k with P(X <= k) >= α/2 to the largest with P(X >= k) >= α/2
// (X binomial, α = 1 - ConfidenceLevel), so each tail outside holds less
// than α/2. The walk starts 10 standard deviations out (beyond, the tails are
// below 1e-20) and takes O(√n) steps.
func binomialInterval(n uint64, p float64) (lo, hi float64) {
	klo, khi := binomialBounds(n, p, (1-ConfidenceLevel)/2)
	return float64(klo) / float64(n), float64(khi) / float64(n)
}

func binomialBounds(n uint64, p, tail float64) (klo, khi uint64) {
	switch {
	case n == 0:
		return 0, 0
	case p <= 0:
		return 0, 0
	case p >= 1:
		return n, n
	}
	fn := float64(n)
	lgn, _ := math.Lgamma(fn + 1)
	lp, lq := math.Log(p), math.Log1p(-p)
	pmf := func(k uint64) float64 {
		a, _ := math.Lgamma(float64(k) + 1)
		b, _ := math.Lgamma(fn - float64(k) + 1)
		return math.Exp(lgn - a - b + float64(k)*lp + (fn-float64(k))*lq)
	}
	mean, sd := fn*p, math.Sqrt(fn*p*(1-p))
	start := uint64(max(0, math.Floor(mean-10*sd-10)))
	cdf := 0.0
	for klo = start; klo < n; klo++ {
		pk := pmf(klo)
		if cdf+pk >= tail {
			break
		}
		cdf += pk
	}
	cdf = 0
	for khi = uint64(min(fn, math.Ceil(mean+10*sd+10))); khi > 0; khi-- {
		pk := pmf(khi)
		if cdf+pk >= tail {
			break
		}
		cdf += pk
	}
	return klo, khi
}

// z999 is the standard normal quantile at 1 - (1-ConfidenceLevel)/2.
var z999 = normalQuantile(1 - (1-ConfidenceLevel)/2)

// normalQuantile is the standard normal distribution's inverse CDF.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }
