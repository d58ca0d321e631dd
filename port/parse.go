package port

import (
	"errors"
	"fmt"
	mathbits "math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// MaxPort is the highest port number.
const MaxPort = 65535

// ParsePorts parses port arguments: single ports ("8080"), comma-separated lists
// ("8080,8443") and ranges ("8000-8010"), in any mix. It returns the ports in
// ascending order without repeats. Port 0, ports above 65535, reversed ranges and
// anything that is not a number are errors whose message names the value and
// says how to write it.
func ParsePorts(args ...string) ([]int, error) {
	var set PortSet
	n := 0
	for _, arg := range args {
		for item := range strings.SplitSeq(arg, ",") {
			lo, hi, err := parseItem(strings.TrimSpace(item), arg)
			if err != nil {
				return nil, err
			}
			for p := lo; p <= hi; p++ {
				if !set.Has(p) {
					set.Add(p)
					n++
				}
			}
		}
	}
	if n == 0 {
		return nil, errors.New("no port given: name at least one (8080, 8080,8443 or 8000-8010)")
	}
	return set.List(n), nil
}

// ParseRange parses a single range "LO-HI" (or a single port, a range of one).
func ParseRange(s string) (lo, hi int, err error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ",") {
		return 0, 0, fmt.Errorf("range %q: give one range LO-HI, e.g. 20000-30000", s)
	}
	return parseItem(s, s)
}

// parseItem parses "P" or "LO-HI"; whole is the argument it came from, for
// messages.
func parseItem(item, whole string) (lo, hi int, err error) {
	if item == "" {
		return 0, 0, fmt.Errorf("empty port in %q: separate ports with single commas, e.g. 8080,8443", whole)
	}
	a, b, isRange := strings.Cut(item, "-")
	if strings.Contains(b, "-") {
		return 0, 0, fmt.Errorf("range %q has more than one '-': write a range as LO-HI, e.g. 8000-8010", item)
	}
	if lo, err = parseNumber(a, item); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parseNumber(b, item); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("range %s is reversed: write %d-%d", item, hi, lo)
	}
	return lo, hi, nil
}

func parseNumber(s, item string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("range %q is missing a number: write ranges as LO-HI, e.g. 8000-8010", item)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q is not a number: give ports as numbers (80), lists (80,443) or ranges (8000-8010)", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPort {
		return 0, fmt.Errorf("port %s is out of range: ports run from 1 to %d", s, MaxPort)
	}
	return n, nil
}

// FormatPorts writes ascending ports compactly, joining runs into ranges:
// "80,443,8000-8010". ParsePorts reads it back.
func FormatPorts(ports []int) string {
	var b strings.Builder
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ports[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ports[j]))
		}
		i = j + 1
	}
	return b.String()
}

// ParseProtos parses a protocol list such as "tcp", "udp" or "tcp,udp" (any
// case). It returns the protocols in the order TCP, UDP without repeats.
func ParseProtos(s string) ([]Proto, error) {
	var tcp, udp bool
	for item := range strings.SplitSeq(s, ",") {
		switch Proto(strings.ToLower(strings.TrimSpace(item))) {
		case TCP:
			tcp = true
		case UDP:
			udp = true
		default:
			return nil, fmt.Errorf("unknown protocol %q: use tcp, udp or tcp,udp", strings.TrimSpace(item))
		}
	}
	var out []Proto
	if tcp {
		out = append(out, TCP)
	}
	if udp {
		out = append(out, UDP)
	}
	return out, nil
}

// ParseAddrs parses IP addresses to check, each argument one address or a
// comma-separated list; IPv6 addresses may be in brackets ("[::1]"). Host names
// and zones are refused: a bind needs an address.
func ParseAddrs(args ...string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, arg := range args {
		for item := range strings.SplitSeq(arg, ",") {
			s := strings.TrimSpace(item)
			if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
				s = s[1 : len(s)-1]
			}
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("address %q is not an IP address: give one such as 127.0.0.1, ::1, 0.0.0.0 or ::", item)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("address %q has a zone: give an address without %%zone", item)
			}
			if a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) {
				// A bind needs the interface, which only a zone names (EINVAL).
				return nil, fmt.Errorf("address %q is link-local, which is bound only with its interface (a zone, not taken here): check a global or loopback address, or :: for every address", item)
			}
			a = a.Unmap()
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no address given: name one such as 127.0.0.1")
	}
	return out, nil
}

// PortSet is a set of port numbers, one bit each (8 KiB). The zero value is
// empty.
type PortSet [(MaxPort + 1) / 64]uint64

// Add puts p (0 to MaxPort) in the set.
func (s *PortSet) Add(p int) { s[p>>6] |= 1 << (p & 63) }

// Has reports whether p is in the set.
func (s *PortSet) Has(p int) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// List returns the n ports in s in ascending order (n is a capacity hint).
func (s *PortSet) List(n int) []int {
	out := make([]int, 0, n)
	for w, bits := range s {
		for bits != 0 {
			b := mathbits.TrailingZeros64(bits)
			out = append(out, w<<6|b)
			bits &^= 1 << b
		}
	}
	return out
}

// Ranges returns the ports in s as ascending runs of consecutive ports, each
// as [lo, hi].
func (s *PortSet) Ranges() [][2]int {
	var out [][2]int
	for _, p := range s.List(0) {
		if n := len(out); n > 0 && out[n-1][1] == p-1 {
			out[n-1][1] = p
			continue
		}
		out = append(out, [2]int{p, p})
	}
	return out
}
