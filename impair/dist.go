package impair

import (
	"math"
	"sync"
)

// netem's table distributions. iproute2 ships tables (normal.dist,
// pareto.dist, paretonormal.dist) that tc hands to the kernel: 4096 values of
// a scaled inverse cumulative distribution, each a jitter multiple times
// distScale (NETEM_DIST_SCALE). netem draws one at random per packet and
// scales it by the jitter (sch_netem.c's tabledist). The tables are generated
// here from iproute2's published generators (netem/normal.c, pareto.c,
// paretonormal.c), so the shapes are netem's own: the Pareto (α = 3) is
// shifted to mean 0, scaled by 4/3 and capped at +4 jitters (sd 0.82), and
// paretonormal is a quarter normal plus three quarters Pareto taken at the
// same quantile (sd 0.83).
const (
	distScale = 8192  // NETEM_DIST_SCALE
	distSize  = 16384 // the generators' TABLESIZE; every 4th entry is kept
	paretoA   = 3.0
)

// distTable returns the table for a distribution (nil for uniform).
func distTable(d Distribution) []int16 {
	switch d {
	case DistNormal:
		return tables().normal
	case DistPareto:
		return tables().pareto
	case DistParetoNormal:
		return tables().paretonormal
	}
	return nil
}

type distTables struct{ normal, pareto, paretonormal []int16 }

var tables = sync.OnceValue(func() distTables {
	// The inverse normal CDF, as normal.c tabulates it: stepping x over
	// [-10, 10.05) by 5e-5, table[i] is the last x whose CDF rounds to
	// i/distSize.
	var inv [distSize + 1]float64
	for k := 0; ; k++ {
		x := -10.0 + float64(k)*0.00005
		if x >= 10.05 {
			break
		}
		i := int(math.RoundToEven(distSize * (0.5 + 0.5*math.Erf(x/math.Sqrt2))))
		inv[i] = x
	}
	var t distTables
	for i := 0; i < distSize; i += 4 {
		// normal.c clamps its value to a short; paretonormal.c mixes the
		// unclamped one and clamps the mix (C's division: toward zero).
		norm := int(math.RoundToEven(inv[i] * distScale))
		t.normal = append(t.normal, int16(clampShort(float64(norm))))
		// pareto.c and paretonormal.c's paretovalue: u runs from 1 down.
		par := paretoValue(float64(65536-4*i) / 65536)
		t.pareto = append(t.pareto, int16(par))
		t.paretonormal = append(t.paretonormal, int16(clampShort(float64((norm+3*par)/4))))
	}
	return t
})

// paretoValue is the scaled Pareto quantile at 1-u: 1/u^(1/α), shifted by
// the mean (1.5), scaled by 4/3 and distScale, capped at the int16 maximum.
func paretoValue(u float64) int {
	v := (1/math.Pow(u, 1/paretoA) - 1.5) * (4.0 / 3.0) * distScale
	return int(math.RoundToEven(min(v, math.MaxInt16)))
}

func clampShort(v float64) int {
	return int(max(math.MinInt16, min(math.MaxInt16, v)))
}

// tabledist is sch_netem.c's tabledist for a table distribution: the drawn
// table value t scales sigma (the jitter, ns) as sigma·t/distScale, with the
// kernel's own split and rounding; mu is the delay (ns).
func tabledist(mu, sigma int64, t int16) int64 {
	x := (sigma % distScale) * int64(t)
	if x >= 0 {
		x += distScale / 2
	} else {
		x -= distScale / 2
	}
	return x/distScale + (sigma/distScale)*int64(t) + mu
}
