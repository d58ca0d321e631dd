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
	"time"

	"github.com/netduel/netduel/stats"
)

// ProtocolVersion is the control protocol's version, checked in the hello.
const ProtocolVersion = 1

// Protocols and tests a TestSpec may name.
const (
	ProtoTCP       = "tcp"
	ProtoUDP       = "udp"
	TestThroughput = "throughput"
	TestLatency    = "latency"
)

// Defaults for a TestSpec's Size, per protocol and test: the UDP payload of one
// datagram, the TCP write unit for throughput, the request size for latency.
const (
	DefaultUDPSize     = 1400
	DefaultTCPSize     = 128 << 10
	DefaultLatencySize = 64
)

// TestSpec is one test of a plan: a protocol, a test and its parameters.
type TestSpec struct {
	Proto    string        `json:"proto"`
	Test     string        `json:"test"`
	Duration time.Duration `json:"duration_ns"`
	Size     int           `json:"size"`                  // frame bytes on the wire (header + body)
	Bitrate  float64       `json:"bitrate"`               // UDP throughput pacing, bits/s; 0 = unpaced
	Interval time.Duration `json:"interval_ns,omitempty"` // > 0: per-interval figures
	// MaxLossPct >= 0 with Bitrate < 0 asks Client.Run to search for the highest
	// bit rate whose loss stays at or below it (--bitrate max). Not sent to the server.
	MaxLossPct float64 `json:"-"`
}

// SearchRate is the Bitrate value that asks for a bit rate search.
const SearchRate = -1

// DefaultSize returns the default frame size for a protocol and test.
func DefaultSize(proto, test string) int {
	switch {
	case test == TestLatency:
		return DefaultLatencySize
	case proto == ProtoTCP:
		return DefaultTCPSize
	default:
		return DefaultUDPSize
	}
}

// String names the spec, for example "udp throughput".
func (s TestSpec) String() string { return s.Proto + " " + s.Test }

// check validates a spec against a frame size limit.
func (s TestSpec) check(maxFrame int) error {
	switch s.Proto {
	case ProtoTCP, ProtoUDP:
	default:
		return fmt.Errorf("unknown protocol %q (want tcp or udp)", s.Proto)
	}
	switch s.Test {
	case TestThroughput, TestLatency:
	default:
		return fmt.Errorf("unknown test %q (want throughput or latency)", s.Test)
	}
	if s.Duration <= 0 {
		return fmt.Errorf("duration %v must be positive", s.Duration)
	}
	if s.Size < minFrame || s.Size > maxFrame {
		return fmt.Errorf("size %d is outside %d..%d bytes", s.Size, minFrame, maxFrame)
	}
	if s.Proto == ProtoUDP && s.Size > maxUDPFrame {
		return fmt.Errorf("size %d does not fit one UDP datagram (at most %d bytes)", s.Size, maxUDPFrame)
	}
	if s.Interval < 0 || (s.Interval > 0 && s.Duration/s.Interval > stats.MaxIntervals) {
		return fmt.Errorf("interval %v: want a positive interval giving at most %d intervals", s.Interval, stats.MaxIntervals)
	}
	if s.Bitrate < 0 && s.Bitrate != SearchRate {
		return fmt.Errorf("bitrate %v must not be negative", s.Bitrate)
	}
	return nil
}
