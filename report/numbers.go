package report

import (
	"fmt"
	"math"
	"strings"
)

// finite replaces NaN and ±Inf by 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// FormatRate formats bits per second with an SI prefix: "941 Mbit/s".
func FormatRate(bps float64) string {
	bps = finite(bps)
	units := []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"}
	i := 0
	for bps >= 1000 && i < len(units)-1 {
		bps /= 1000
		i++
	}
	return trimNum(bps) + " " + units[i]
}

// trimNum prints 3 significant digits: 941, 94.1, 9.41.
func trimNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// Micros formats a duration given in microseconds: "87.3 µs", "12.4 ms", "1.20 s".
func Micros(v float64) string {
	v = finite(v)
	switch {
	case v >= 1e6:
		return trimNum(v/1e6) + " s"
	case v >= 1e3:
		return trimNum(v/1e3) + " ms"
	default:
		return trimNum(v) + " µs"
	}
}

// Count formats a count with thousands separators: "1,234,567".
func Count(n uint64) string {
	s := fmt.Sprintf("%d", n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
