// Package duel orchestrates netduel's tests: the control protocol between client
// and server, the server (embedded in-process or remote) with its sessions, and the
// client that runs a test plan and assembles the Result model that reports render.
//
// A client opens a TCP control connection and sends a hello carrying the protocol
// version and the test; the server answers with a session cookie. The client then
// opens a TCP data connection (whose first frame attaches it to the session) or
// sends UDP datagrams carrying the cookie, both to the control port's number. When
// the client is done it sends a fin with what it sent, and the server answers with
// its receiver-side counters. See docs/protocol.md.
package duel

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netduel/netduel/stats"
)

// ProtocolVersion is the control protocol's version, checked in the hello.
const ProtocolVersion = 1

// Proto is a transport protocol a test runs over.
type Proto string

// Test is what a test measures.
type Test string

// Protocols and tests a TestSpec may name.
const (
	ProtoTCP       Proto = "tcp"
	ProtoUDP       Proto = "udp"
	TestThroughput Test  = "throughput"
	TestLatency    Test  = "latency"
)

// Defaults for a TestSpec's Size, per protocol and test: the UDP payload of one
// datagram, one frame of the TCP throughput stream, the request size for latency.
const (
	DefaultUDPSize     = 1400
	DefaultTCPSize     = 128 << 10
	DefaultLatencySize = 64
)

// TestSpec is one test of a plan: a protocol, a test and its parameters.
type TestSpec struct {
	Proto    Proto         `json:"proto"`
	Test     Test          `json:"test"`
	Duration time.Duration `json:"duration_ns"`
	Size     int           `json:"size"`                  // frame bytes on the wire (header + body)
	Bitrate  float64       `json:"bitrate"`               // UDP throughput pacing, bits/s; 0 = unpaced
	Interval time.Duration `json:"interval_ns,omitempty"` // > 0: per-interval figures
	// BusyPoll asks both ends of a latency test to spin while they wait for
	// the next message instead of sleeping in the kernel (--busy-poll).
	BusyPoll bool `json:"busy_poll,omitempty"`
	// Search, if set, asks Client.Run to search for the highest bit rate whose
	// loss stays at or below Search.MaxLossPct (--bitrate max) instead of
	// pacing at Bitrate; only a test kind that paces takes it. Not sent to the
	// server.
	Search *SearchSpec `json:"-"`
}

// SearchSpec asks for a bit rate search (--bitrate max).
type SearchSpec struct {
	MaxLossPct float64 // the loss, percent, the rate found may cause
}

// DefaultSize returns the default frame size for a protocol and test (the
// kind's), or 0 if no kind has them.
func DefaultSize(proto Proto, test Test) int {
	if k, ok := LookupKind(proto, test); ok {
		return k.DefaultSize
	}
	return 0
}

// String names the spec, for example "udp throughput".
func (s TestSpec) String() string { return KindName(s.Proto, s.Test) }

// check validates a spec against a frame size limit.
func (s TestSpec) check(maxFrame int) error {
	k := s.Kind()
	switch {
	case k != nil:
	case !slices.Contains(Protos(), s.Proto):
		return fmt.Errorf("unknown protocol %q (want %s)", s.Proto, orList(Protos()))
	case !slices.Contains(Tests(), s.Test):
		return fmt.Errorf("unknown test %q (want %s)", s.Test, orList(Tests()))
	default:
		return fmt.Errorf("no %s test over %s", s.Test, s.Proto)
	}
	if s.Duration <= 0 {
		return fmt.Errorf("duration %v must be positive", s.Duration)
	}
	if s.Size < minFrame || s.Size > maxFrame {
		return fmt.Errorf("size %d is outside %d..%d bytes", s.Size, minFrame, maxFrame)
	}
	if k.MaxSize > 0 && s.Size > k.MaxSize {
		return fmt.Errorf("size %d does not fit one %s datagram (at most %d bytes)", s.Size, strings.ToUpper(string(s.Proto)), k.MaxSize)
	}
	if s.Interval < 0 || (s.Interval > 0 && s.Duration/s.Interval > stats.MaxIntervals) {
		return fmt.Errorf("interval %v: want a positive interval giving at most %d intervals", s.Interval, stats.MaxIntervals)
	}
	if s.Bitrate < 0 {
		return fmt.Errorf("bitrate %v must not be negative", s.Bitrate)
	}
	if s.BusyPoll && !k.Has(FigRoundTrips) {
		return fmt.Errorf("busy polling applies to latency tests, not to a %s test", s.Test)
	}
	return nil
}
