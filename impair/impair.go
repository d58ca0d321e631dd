// Package impair owns the emulated link's impairment models, which follow tc
// netem's semantics (man tc-netem, the kernel's sch_netem.c): loss (random,
// 4-state Markov, Gilbert-Elliott), delay with jitter and a distribution,
// reordering with a gap, duplication, corruption (one bit flipped), and a rate
// limit with a drop-tail queue. A Model applies them to one direction's packets
// with an injectable random source and explicit times, so tests are exact and
// repeatable; a Pipe carries real packets through a Model in real time. The
// backends that feed Pipes with IP packets (TUN devices, gVisor stacks) are in
// the sub-package link.
//
// Concurrency: a Model is not safe for concurrent use; a Pipe is (Send may be
// called from any goroutine).
package impair

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Distribution is the shape of the delay's variation.
type Distribution uint8

// Distributions, as netem names them.
const (
	DistUniform      Distribution = iota // netem's default without a table: delay ± jitter, evenly
	DistNormal                           // iproute2's normal table: sd = jitter, within -4 .. +3.5 jitters
	DistPareto                           // iproute2's pareto table (α = 3): sd 0.82 jitter, -0.67 .. +4 jitters
	DistParetoNormal                     // iproute2's paretonormal table: sd 0.83 jitter, -1.5 .. +3.9 jitters
)

// String names the distribution as netem does.
func (d Distribution) String() string {
	switch d {
	case DistNormal:
		return "normal"
	case DistPareto:
		return "pareto"
	case DistParetoNormal:
		return "paretonormal"
	}
	return "uniform"
}

// ParseDistribution reads a distribution's netem name.
func ParseDistribution(s string) (Distribution, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "uniform", "":
		return DistUniform, nil
	case "normal":
		return DistNormal, nil
	case "pareto":
		return DistPareto, nil
	case "paretonormal":
		return DistParetoNormal, nil
	}
	return 0, fmt.Errorf("unknown distribution %q: want uniform, normal, pareto or paretonormal", s)
}

// DefaultQueueLimit is netem's default limit, in packets.
const DefaultQueueLimit = 1000

// MaxQueueLimit bounds the queue limit, so that a full queue's memory stays
// bounded (about 150 MB of 1500-byte packets).
const MaxQueueLimit = 100_000

// MaxDelay bounds the delay and the jitter: longer is a mistake, and values
// near time.Duration's limit would overflow the link's arithmetic.
const MaxDelay = time.Minute

// Config is one direction's impairment, in netem's terms.
type Config struct {
	Loss         LossModel     // nil = no loss
	Delay        time.Duration // added to every packet (but reordered ones)
	Jitter       time.Duration // delay variation, shaped by Distribution
	Distribution Distribution
	Reorder      float64 // probability 0..1 that a packet is sent at once, ahead of delayed ones (needs Delay)
	// DelayCorr, ReorderCorr, DuplicateCorr and CorruptCorr are netem's
	// correlations (0..1) of successive draws (see crandom); a random loss's
	// is in its model (CorrelatedLoss).
	DelayCorr, ReorderCorr, DuplicateCorr, CorruptCorr float64
	ReorderGap                                         int     // netem's gap: 0 or 1 = any packet may be reordered; N = after a reorder, N-1 packets are delayed first
	Duplicate                                          float64 // probability 0..1 of a second copy
	Corrupt                                            float64 // probability 0..1 of one flipped bit
	Rate                                               float64 // bits per second, 0 = unlimited
	// RateOverhead, CellSize and CellOverhead are netem's rate options
	// (rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]): bytes added to
	// each packet's length (may be negative), and the cells (ATM, say) the
	// length is then rounded up to, each carrying CellOverhead more bytes.
	RateOverhead, CellSize, CellOverhead int
	QueueLimit                           int    // packets queued at most (drop-tail); 0 = DefaultQueueLimit
	Seed                                 uint64 // random seed; 0 = pick one at random
	// Slot delivers packets in bursts (netem's slot; see Slot), Trace at a
	// delivery trace's opportunities (mahimahi's; see Trace, which replaces
	// Rate), and ECN marks an ECN-capable packet CE where the loss model
	// would drop it (netem's ecn).
	Slot  Slot
	Trace *Trace
	ECN   bool
}

// Enabled reports whether the configuration changes anything at all.
func (c Config) Enabled() bool {
	return c.lossActive() || c.Delay > 0 || c.Jitter > 0 || c.Reorder > 0 ||
		c.Duplicate > 0 || c.Corrupt > 0 || c.Rate > 0 || c.gated()
}

// lossActive says whether the loss model can drop anything: random loss of
// 0% cannot; a Markov model (state, gemodel) is always applied as given.
func (c Config) lossActive() bool {
	if c.Loss == nil {
		return false
	}
	if r, ok := c.Loss.(randomLoss); ok {
		return r.p > 0
	}
	if r, ok := c.Loss.(*corrLoss); ok {
		return r.p > 0
	}
	return true
}

func (c Config) queueLimit() int {
	if c.QueueLimit <= 0 {
		return DefaultQueueLimit
	}
	return c.QueueLimit
}

// L2Header is the length netem's rate counts beyond the IP packet on an
// Ethernet device (the qdisc sees the frame without its FCS): netduel's links
// carry bare IP packets, so the rate adds it to match netem's basis.
const L2Header = 14

// serialisation is the time a packet of size IP bytes takes at the rate, as
// sch_netem.c's packet_time_ns counts it: the L2 frame plus the packet
// overhead, in whole cells (each with its overhead) when a cell size is set.
func (c Config) serialisation(size int) time.Duration {
	// netem keeps the rate in whole bytes per second (tc divides by 8 and
	// truncates) and divides in integers: div64_u64(len·NSEC_PER_SEC, rate).
	perSec := max(uint64(c.Rate/8), 1)
	return time.Duration(uint64(c.rateBytes(size)) * uint64(time.Second) / perSec)
}

// rateBytes is the length the rate counts for a packet of size IP bytes.
func (c Config) rateBytes(size int) int64 {
	n := int64(size) + L2Header + int64(c.RateOverhead)
	if c.CellSize > 0 {
		cells := (max(n, 0) + int64(c.CellSize) - 1) / int64(c.CellSize)
		n = cells * int64(c.CellSize+c.CellOverhead)
	}
	return max(n, 0)
}

// Netem returns the equivalent netem arguments (after "tc qdisc add dev DEV root
// netem"), e.g. "delay 20ms 5ms distribution normal loss random 1% rate 100mbit".
// It is empty for a link that does nothing.
func (c Config) Netem() string {
	var parts []string
	if c.Delay > 0 || c.Jitter > 0 {
		d := "delay " + netemTime(c.Delay)
		if c.Jitter > 0 {
			d += " " + netemTime(c.Jitter)
			if c.DelayCorr > 0 {
				d += " " + pct(c.DelayCorr)
			}
			if c.Distribution != DistUniform {
				d += " distribution " + c.Distribution.String()
			}
		}
		parts = append(parts, d)
	}
	if c.lossActive() {
		parts = append(parts, "loss "+c.Loss.String())
		if c.ECN {
			parts = append(parts, "ecn")
		}
	}
	if c.Duplicate > 0 {
		parts = append(parts, "duplicate "+pct(c.Duplicate)+corrSuffix(c.DuplicateCorr))
	}
	if c.Corrupt > 0 {
		parts = append(parts, "corrupt "+pct(c.Corrupt)+corrSuffix(c.CorruptCorr))
	}
	if c.Reorder > 0 {
		r := "reorder " + pct(c.Reorder) + corrSuffix(c.ReorderCorr)
		if c.ReorderGap > 1 {
			r += " gap " + strconv.Itoa(c.ReorderGap)
		}
		parts = append(parts, r)
	}
	if c.Rate > 0 {
		r := "rate " + netemRate(c.Rate)
		if c.RateOverhead != 0 || c.CellSize != 0 {
			r += " " + strconv.Itoa(c.RateOverhead)
			if c.CellSize != 0 {
				r += " " + strconv.Itoa(c.CellSize)
				if c.CellOverhead != 0 {
					r += " " + strconv.Itoa(c.CellOverhead)
				}
			}
		}
		parts = append(parts, r)
	}
	parts = append(parts, c.netemGates()...)
	if len(parts) > 0 && c.QueueLimit > 0 {
		parts = append(parts, "limit "+strconv.Itoa(c.QueueLimit))
	}
	return strings.Join(parts, " ")
}

func corrSuffix(c float64) string {
	if c > 0 {
		return " " + pct(c)
	}
	return ""
}

func pct(p float64) string { return strconv.FormatFloat(p*100, 'g', 6, 64) + "%" }

func netemTime(d time.Duration) string {
	switch {
	case d == 0:
		return "0ms"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d%time.Microsecond == 0:
		return strconv.FormatInt(d.Microseconds(), 10) + "us"
	}
	return strconv.FormatInt(d.Nanoseconds(), 10) + "ns"
}

func netemRate(bps float64) string {
	switch {
	case bps >= 1e9 && math.Mod(bps, 1e9) == 0:
		return strconv.FormatFloat(bps/1e9, 'g', -1, 64) + "gbit"
	case bps >= 1e6 && math.Mod(bps, 1e6) == 0:
		return strconv.FormatFloat(bps/1e6, 'g', -1, 64) + "mbit"
	case bps >= 1e3 && math.Mod(bps, 1e3) == 0:
		return strconv.FormatFloat(bps/1e3, 'g', -1, 64) + "kbit"
	}
	return strconv.FormatFloat(bps, 'f', 0, 64) + "bit"
}

// ParsePercent reads a percentage as netem's tools and netduel's flags accept it:
// "5%" and "5" are both five percent. It returns a probability from 0 to 1;
// anything outside 0-100% is an error.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a percentage: write 5%% or 5 for five percent", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is outside 0-100%%", s)
	}
	return v / 100, nil
}
