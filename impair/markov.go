package impair

import "math"

// markovVariance returns, for a Markov loss model, the asymptotic variance
// σ² of its loss indicator (Var of the count of losses over n packets ≈ nσ²),
// and false for a model whose losses are independent. With the chain's
// stationary distribution π over the states reachable from the first, the
// per-state loss probability g and the variance v of a loss given its state,
// and the fundamental matrix Z = (I - P + Π)⁻¹ (Kemeny and Snell; it exists
// for a periodic chain too): σ² = Σ πᵢvᵢ + 2 Σ πᵢgᵢ(Zg)ᵢ - Σ πᵢgᵢ² - (πg)².
func markovVariance(m LossModel) (float64, bool) {
	var P [4][4]float64
	var g, v [4]float64
	switch l := m.(type) {
	case *stateLoss:
		// The loss is the state a packet moves to (3 or 4): g is exact.
		P, g = l.matrix(), [4]float64{0, 0, 1, 1}
	case *geLoss:
		// The state a packet arrives in (good, bad) sets its loss chance;
		// the other two states are never reached.
		P = [4][4]float64{{1 - l.p, l.p}, {l.r, 1 - l.r}, {2: 1}, {3: 1}}
		g = [4]float64{1 - l.k, 1 - l.h}
		v = [4]float64{g[0] * (1 - g[0]), g[1] * (1 - g[1])}
	default:
		return 0, false
	}
	pi := stationary(P)
	idx := reachable(P)
	n := len(idx)
	a := make([][]float64, n)
	b := make([]float64, n)
	for r, i := range idx {
		a[r] = make([]float64, n)
		for c, j := range idx {
			a[r][c] = pi[j] - P[i][j]
			if r == c {
				a[r][c]++
			}
		}
		b[r] = g[i]
	}
	zg := solve(a, b)
	var mean, s float64
	for r, i := range idx {
		mean += pi[i] * g[i]
		s += pi[i]*v[i] + 2*pi[i]*g[i]*zg[r] - pi[i]*g[i]*g[i]
	}
	return max(0, s-mean*mean), true
}

// reachable lists the states reachable from the first under P.
func reachable(P [4][4]float64) []int {
	reach := [4]bool{true}
	for changed := true; changed; {
		changed = false
		for i := range 4 {
			for j := range 4 {
				if reach[i] && !reach[j] && P[i][j] > 0 {
					reach[j], changed = true, true
				}
			}
		}
	}
	var idx []int
	for i, r := range reach {
		if r {
			idx = append(idx, i)
		}
	}
	return idx
}

// solve solves a x = b by Gaussian elimination with partial pivoting (a and b
// are overwritten); a singular column gives 0.
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	for c := range n {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		a[c], a[piv] = a[piv], a[c]
		b[c], b[piv] = b[piv], b[c]
		if a[c][c] == 0 {
			continue
		}
		for r := range n {
			if r != c && a[r][c] != 0 {
				f := a[r][c] / a[c][c]
				for k := c; k < n; k++ {
					a[r][k] -= f * a[c][k]
				}
				b[r] -= f * b[c]
			}
		}
	}
	x := make([]float64, n)
	for c := range n {
		if a[c][c] != 0 {
			x[c] = b[c] / a[c][c]
		}
	}
	return x
}
