package impair

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Slot is netem's slot option (Wi-Fi or LTE style bursty delivery): packets
// leave only in slots; each slot opens after a delay drawn uniformly in
// [Min, Max), or from a table distribution (Dist, Delay, Jitter), and carries
// at most Packets packets and Bytes bytes (0: no limit). The zero Slot is off.
//
// As sch_netem.c's get_slot_next and dequeue: a slot that opened before the
// head packet was due is stale, and a fresh one is drawn from the time of the
// dequeue attempt; each packet sent in a slot takes one packet and its
// length (the frame, as the rate counts it, without overhead) from the
// slot's budget, and when either runs out (reaches 0 or below: the last
// packet may overrun Bytes) the next slot is drawn.
type Slot struct {
	Min, Max time.Duration // uniform slot delay, [Min, Max)
	// Dist (normal, pareto, paretonormal) draws the slot delay as netem's
	// tabledist: Delay plus Jitter times an entry of iproute2's table.
	Dist          Distribution
	Delay, Jitter time.Duration
	Packets       int // per slot at most; 0 = no limit
	Bytes         int // per slot (the last packet may overrun it); 0 = no limit
}

// Enabled says whether the slot option is on (as netem: a delay or a
// jitter).
func (s Slot) Enabled() bool { return s.Min > 0 || s.Max > 0 || s.Jitter > 0 }

// SlotUsage is the syntax ParseSlot reads.
const SlotUsage = "MIN [MAX] [packets N] [bytes N], or distribution DIST DELAY JITTER [packets N] [bytes N]"

// ParseSlot reads netem's slot arguments (after the word slot): "MIN [MAX]
// [packets N] [bytes N]" or "distribution DIST DELAY JITTER [packets N]
// [bytes N]"; MAX defaults to MIN. Times are Go durations (10ms, 500us) or
// tc's (a bare number is microseconds, as tc's get_time).
func ParseSlot(s string) (Slot, error) {
	var sl Slot
	f := strings.Fields(s)
	if len(f) == 0 {
		return sl, fmt.Errorf("empty: want %s", SlotUsage)
	}
	var err error
	rest := f
	if strings.EqualFold(f[0], "distribution") {
		if len(f) < 4 {
			return sl, fmt.Errorf("distribution needs DIST DELAY JITTER (e.g. 'distribution normal 10ms 5ms')")
		}
		if sl.Dist, err = ParseDistribution(f[1]); err != nil || sl.Dist == DistUniform {
			return sl, fmt.Errorf("distribution %q: want normal, pareto or paretonormal (iproute2's tables)", f[1])
		}
		if sl.Delay, err = parseNetemTime(f[2]); err != nil {
			return sl, fmt.Errorf("delay %q: %v", f[2], err)
		}
		if sl.Jitter, err = parseNetemTime(f[3]); err != nil || sl.Jitter <= 0 {
			return sl, fmt.Errorf("jitter %q: want a positive duration, such as 5ms (netem refuses a non-positive one)", f[3])
		}
		rest = f[4:]
	} else {
		if sl.Min, err = parseNetemTime(f[0]); err != nil {
			return sl, fmt.Errorf("MIN %q: %v (%s)", f[0], err, SlotUsage)
		}
		sl.Max, rest = sl.Min, f[1:]
		if len(rest) > 0 && !isSlotWord(rest[0]) {
			if sl.Max, err = parseNetemTime(rest[0]); err != nil {
				return sl, fmt.Errorf("MAX %q: %v (%s)", rest[0], err, SlotUsage)
			}
			rest = rest[1:]
		}
	}
	return sl, parseSlotLimits(rest, &sl)
}

func isSlotWord(s string) bool {
	return strings.EqualFold(s, "packets") || strings.EqualFold(s, "bytes")
}

// parseSlotLimits reads [packets N] [bytes N], in that order as tc does.
func parseSlotLimits(f []string, sl *Slot) error {
	for _, x := range []struct {
		word string
		dst  *int
	}{{"packets", &sl.Packets}, {"bytes", &sl.Bytes}} {
		if len(f) == 0 || !strings.EqualFold(f[0], x.word) {
			continue
		}
		if len(f) < 2 {
			return fmt.Errorf("%s needs a number", x.word)
		}
		v, err := parseSlotCount(f[1])
		if err != nil || v < 1 {
			return fmt.Errorf("%s %q: want a whole number from 1 to %d", x.word, f[1], math.MaxInt32)
		}
		*x.dst, f = v, f[2:]
	}
	if len(f) > 0 {
		return fmt.Errorf("%q: unexpected (%s)", strings.Join(f, " "), SlotUsage)
	}
	return nil
}

// parseSlotCount reads a count, with tc's size suffixes for bytes (k, kb,
// m, mb: powers of 1024).
func parseSlotCount(s string) (int, error) {
	mult := 1
	low := strings.ToLower(s)
	for _, u := range []struct {
		suf string
		m   int
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"k", 1 << 10}, {"m", 1 << 20}, {"b", 1}} {
		if strings.HasSuffix(low, u.suf) {
			low, mult = strings.TrimSuffix(low, u.suf), u.m
			break
		}
	}
	v, err := strconv.Atoi(low)
	if err != nil || v > math.MaxInt32/mult {
		return 0, fmt.Errorf("bad count")
	}
	return v * mult, nil
}

// parseNetemTime reads a time: a Go duration (10ms, 1.5s, 500us), tc's
// spellings (10msec, 1sec) or, as tc's get_time, a bare number of
// microseconds.
func parseNetemTime(s string) (time.Duration, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v < 0 || v > float64(MaxDelay/time.Microsecond) || math.IsNaN(v) {
			return 0, fmt.Errorf("want a duration from 0 to %v", MaxDelay)
		}
		return time.Duration(v * float64(time.Microsecond)), nil
	}
	for _, u := range [][2]string{{"usec", "us"}, {"msec", "ms"}, {"sec", "s"}} {
		if strings.HasSuffix(s, u[0]) {
			s = strings.TrimSuffix(s, u[0]) + u[1] // tc's spellings
			break
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > MaxDelay {
		return 0, fmt.Errorf("want a duration from 0 to %v, such as 10ms or 500us", MaxDelay)
	}
	return d, nil
}

// String writes the slot as netem's arguments (after the word slot).
func (s Slot) String() string {
	var b strings.Builder
	if s.Dist != DistUniform {
		fmt.Fprintf(&b, "distribution %s %s %s", s.Dist, netemTime(s.Delay), netemTime(s.Jitter))
	} else {
		b.WriteString(netemTime(s.Min) + " " + netemTime(s.Max))
	}
	if s.Packets > 0 {
		b.WriteString(" packets " + strconv.Itoa(s.Packets))
	}
	if s.Bytes > 0 {
		b.WriteString(" bytes " + strconv.Itoa(s.Bytes))
	}
	return b.String()
}

// check is Validate's part for the slot.
func (s Slot) check() *ConfigError {
	switch {
	case s.Min < 0 || s.Max < 0 || s.Delay < 0 || s.Jitter < 0:
		return configErrorf("Slot", "", "slot times must not be negative")
	case s.Min > MaxDelay || s.Max > MaxDelay || s.Delay > MaxDelay || s.Jitter > MaxDelay:
		return configErrorf("Slot", "", "slot times must be at most %v", MaxDelay)
	case s.Max < s.Min:
		return configErrorf("Slot", "", "slot MAX %v is below MIN %v (as iproute2 refuses it)", s.Max, s.Min)
	}
	return s.checkShape()
}

// checkShape checks that the slot's settings fit its form.
func (s Slot) checkShape() *ConfigError {
	switch {
	case s.Dist != DistUniform && s.Jitter == 0:
		return configErrorf("Slot", "", "a slot distribution needs a positive jitter (as netem)")
	case s.Dist == DistUniform && (s.Delay != 0 || s.Jitter != 0):
		return configErrorf("Slot", "", "a slot delay and jitter need a distribution (slot distribution DIST DELAY JITTER)")
	case s.Packets < 0 || s.Packets > math.MaxInt32 || s.Bytes < 0 || s.Bytes > math.MaxInt32:
		return configErrorf("Slot", "", "slot packets and bytes must be from 1 to %d (0: no limit)", math.MaxInt32)
	case !s.Enabled() && (s.Packets != 0 || s.Bytes != 0):
		return configErrorf("Slot", "", "slot packets and bytes need a slot delay")
	}
	return nil
}

// slotGate is netem's slot state (q->slot): when the next slot opens, and
// what is left of the current one.
type slotGate struct {
	cfg            Slot
	r              *rand.Rand
	table          []int16
	next           time.Duration // slot_next
	packets, bytes int           // packets_left, bytes_left
}

func newSlotGate(cfg Slot, r *rand.Rand, now time.Duration) *slotGate {
	g := &slotGate{cfg: cfg, r: r, table: distTable(cfg.Dist), next: now}
	g.packets, g.bytes = g.caps()
	return g
}

// caps are a fresh slot's budget: netem's INT_MAX for no limit.
func (g *slotGate) caps() (int, int) {
	p, b := g.cfg.Packets, g.cfg.Bytes
	if p == 0 {
		p = math.MaxInt32
	}
	if b == 0 {
		b = math.MaxInt32
	}
	return p, b
}

// draw is get_slot_next: the next slot opens a drawn delay after now.
func (g *slotGate) draw(now time.Duration) {
	g.next = now + g.interval()
	g.packets, g.bytes = g.caps()
}

// interval draws a slot delay: min + (u32 · (max - min)) >> 32, or
// tabledist on the slot's table. (The kernel's 64-bit product overflows
// for ranges over about 2.1 s; this one does not.)
func (g *slotGate) interval() time.Duration {
	if g.table != nil {
		return time.Duration(tabledist(int64(g.cfg.Delay), int64(g.cfg.Jitter), g.table[g.r.Uint32()%uint32(len(g.table))]))
	}
	hi, lo := bits.Mul64(uint64(g.r.Uint32()), uint64(g.cfg.Max-g.cfg.Min))
	return g.cfg.Min + time.Duration(hi<<32|lo>>32)
}

// admit is one dequeue attempt at now for the head packet, due at due, of
// size IP bytes: whether it leaves now (accounted in the slot), and when
// it could first leave (if not, when to try again).
func (g *slotGate) admit(now, due time.Duration, size int) (bool, time.Duration) {
	if g.next < due {
		g.draw(now)
	}
	if due > now || g.next > now {
		return false, max(due, g.next)
	}
	at := max(due, g.next)
	g.packets--
	g.bytes -= size + L2Header
	if g.packets <= 0 || g.bytes <= 0 {
		g.draw(now)
	}
	return true, at
}
