package impair

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// tcRateUnits are tc's rate units (iproute2's parse_rate suffixes), in bits
// per second. tc matches them without regard to case, so its "mbps" is
// megabytes; netduel keeps "bps" for bits (its --rate 10Mbps is 10 Mbit/s) and
// takes tc's byte units only spelled with a capital B.
var tcRateUnits = []struct {
	unit  string
	scale float64
	fold  bool // matched without regard to case
}{
	{"kibit", 1 << 10, true}, {"mibit", 1 << 20, true}, {"gibit", 1 << 30, true}, {"tibit", 1 << 40, true},
	{"kbit", 1e3, true}, {"mbit", 1e6, true}, {"gbit", 1e9, true}, {"tbit", 1e12, true}, {"bit", 1, true},
	{"KiBps", 8 << 10, false}, {"MiBps", 8 << 20, false}, {"GiBps", 8 << 30, false}, {"TiBps", 8 << 40, false},
	{"KBps", 8e3, false}, {"MBps", 8e6, false}, {"GBps", 8e9, false}, {"TBps", 8e12, false}, {"Bps", 8, false},
}

// ParseTCRate reads a rate written in tc's units (10mbit, 512kibit, 1gbit,
// 2MBps), in bits per second. ok is false when s ends in none of them (the
// caller's own syntax, 10M say, may apply).
func ParseTCRate(s string) (bps float64, ok bool, err error) {
	for _, u := range tcRateUnits {
		n := len(s) - len(u.unit)
		if n < 0 || !(s[n:] == u.unit || u.fold && strings.EqualFold(s[n:], u.unit)) {
			continue
		}
		v, perr := strconv.ParseFloat(s[:n], 64)
		if perr != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0, true, fmt.Errorf("%q is not a rate: a number and a unit, such as 10mbit or 1.5gbit", s)
		}
		return v * u.scale, true, nil
	}
	return 0, false, nil
}

// rateOptionWords are netem's rate options as tc prints them (tc qdisc show:
// "rate 10Mbit packetoverhead 20 cellsize 100 celloverhead 5"), with
// "overhead" for packetoverhead, as tc's size tables name it.
var rateOptionWords = map[string]int{"packetoverhead": 0, "overhead": 0, "cellsize": 1, "celloverhead": 2}

// RateOptionsUsage is the syntax ParseRateOptions reads, after the rate.
const RateOptionsUsage = "[PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]] or [packetoverhead N] [cellsize N] [celloverhead N]"

// ParseRateOptions reads netem's rate options after the rate into c's
// RateOverhead, CellSize and CellOverhead: tc's input form, up to three
// whole numbers in order (rate 10mbit 20 100 5), or the keywords tc prints
// them with, in any order, each once (rate 10mbit packetoverhead 20 cellsize
// 100 celloverhead 5). The values' ranges are Validate's.
func ParseRateOptions(args []string, c *Config) error {
	dst := [3]*int{&c.RateOverhead, &c.CellSize, &c.CellOverhead}
	names := [3]string{"packet overhead", "cell size", "cell overhead"}
	if len(args) > 0 {
		if _, kw := rateOptionWords[strings.ToLower(args[0])]; kw {
			return parseRateKeywords(args, dst, names)
		}
	}
	if len(args) > 3 {
		return fmt.Errorf("%d values after the rate: want %s", len(args), RateOptionsUsage)
	}
	for i, a := range args {
		if _, kw := rateOptionWords[strings.ToLower(a)]; kw {
			return fmt.Errorf("%q after positional values: write every option as a keyword or none (%s)", a, RateOptionsUsage)
		}
		v, err := strconv.Atoi(a)
		if err != nil {
			return fmt.Errorf("%s %q is not a whole number of bytes (%s)", names[i], a, RateOptionsUsage)
		}
		*dst[i] = v
	}
	return nil
}

func parseRateKeywords(args []string, dst [3]*int, names [3]string) error {
	var seen [3]bool
	for i := 0; i < len(args); i += 2 {
		k, ok := rateOptionWords[strings.ToLower(args[i])]
		switch {
		case !ok:
			return fmt.Errorf("%q: want packetoverhead, cellsize or celloverhead, each with a number of bytes", args[i])
		case seen[k]:
			return fmt.Errorf("%s given twice", names[k])
		case i+1 == len(args):
			return fmt.Errorf("%s needs a number of bytes after %q", names[k], args[i])
		}
		v, err := strconv.Atoi(args[i+1])
		if err != nil {
			return fmt.Errorf("%s %q is not a whole number of bytes", names[k], args[i+1])
		}
		seen[k], *dst[k] = true, v
	}
	return nil
}
