package duel

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Figure is a group of figures a test kind measures, so that reports,
// assertions and baselines ask a kind what it has instead of switching on
// its protocol and test.
type Figure uint

const (
	// FigFrames: frames sent, received, lost, reordered, duplicate, corrupt
	// and goodput (every kind).
	FigFrames Figure = 1 << iota
	// FigRoundTrips: round-trip times (rtt_us, rtt_histogram) and the first
	// reply's time.
	FigRoundTrips
	// FigPacing: a paced sender: requested_bps, offered_bps, sender_refused,
	// and a bit rate search (--bitrate max).
	FigPacing
	// FigJitter: RFC 3550 interarrival jitter at the receiver (jitter_ms).
	FigJitter
	// FigTCPInfo: the kernel's view of the data connection (tcp).
	FigTCPInfo
	// FigConnection: a connection-oriented data socket: listen, accept, a
	// handshake, and a close the peer sees.
	FigConnection
	// FigStream: throughput figures (goodput over time, intervals of bytes).
	FigStream
)

// Kind is one test kind: a protocol and a test, what it measures, and (in
// the duel package) its client and server halves and how its result merges.
// Every kind is in the registry; see Kinds and LookupKind.
type Kind struct {
	Proto   Proto
	Test    Test
	Figures Figure // what its results hold
	// DefaultSize is the frame size (bytes on the wire) when none is given.
	DefaultSize int
	// MaxSize, if set, bounds the frame size below the server's limit (one
	// UDP datagram).
	MaxSize int
	// Rank orders kinds in the registry and so in reports: by test first
	// (throughput 100, latency 200), then by protocol (TCP before UDP).
	Rank int

	half kindHalves
}

// Has reports whether the kind measures a figure group.
func (k *Kind) Has(f Figure) bool { return k.Figures&f == f }

// String names the kind, for example "udp throughput".
func (k *Kind) String() string { return KindName(k.Proto, k.Test) }

// registry holds every test kind, in the order reports list them: tests in
// order, protocols within a test.
var registry []*Kind

// register adds a kind to the registry; called from each kind's file.
func register(k *Kind) *Kind {
	if _, dup := LookupKind(k.Proto, k.Test); dup {
		panic("duel: test kind " + k.String() + " registered twice")
	}
	i, _ := slices.BinarySearchFunc(registry, k, func(a, b *Kind) int { return cmp.Compare(a.Rank, b.Rank) })
	registry = slices.Insert(registry, i, k)
	return k
}

// Kinds returns every registered test kind.
func Kinds() []*Kind { return slices.Clone(registry) }

// LookupKind returns the kind of a protocol and test.
func LookupKind(p Proto, t Test) (*Kind, bool) {
	for _, k := range registry {
		if k.Proto == p && k.Test == t {
			return k, true
		}
	}
	return nil, false
}

// Protos returns the protocols of the registry, in order.
func Protos() []Proto { return uniq(func(k *Kind) Proto { return k.Proto }) }

// Tests returns the tests of the registry, in order.
func Tests() []Test { return uniq(func(k *Kind) Test { return k.Test }) }

func uniq[T comparable](pick func(*Kind) T) []T {
	var out []T
	for _, k := range registry {
		if v := pick(k); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ParseProto reads a protocol's name (any case).
func ParseProto(s string) (Proto, error) {
	p := Proto(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Protos(), p) {
		return p, fmt.Errorf("protocol %q is not %s", s, orList(Protos()))
	}
	return p, nil
}

// ParseTest reads a test's name (any case).
func ParseTest(s string) (Test, error) {
	t := Test(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Tests(), t) {
		return t, fmt.Errorf("test %q is not %s", s, orList(Tests()))
	}
	return t, nil
}

func orList[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Kind returns the spec's test kind, or nil for a protocol and test no kind has.
func (s TestSpec) Kind() *Kind {
	k, _ := LookupKind(s.Proto, s.Test)
	return k
}

// Kind returns the result's test kind, or nil for a protocol and test no kind
// has (a report file from elsewhere).
func (r *Result) Kind() *Kind {
	k, _ := LookupKind(r.Proto, r.Test)
	return k
}

// SameTest reports whether two results are of the same kind in the same cell
// (link): the results a baseline or a sweep compares.
func (r *Result) SameTest(o *Result) bool {
	return r.Cell == o.Cell && r.Proto == o.Proto && r.Test == o.Test
}

// KindName names a protocol and test, for example "udp throughput".
func KindName(p Proto, t Test) string { return string(p) + " " + string(t) }
