package duel

import (
	"time"

	"github.com/netduel/netduel/port"
	"github.com/netduel/netduel/stats"
	"github.com/netduel/netduel/tcp"
)

// NetworkLinks is Report.Network when each result names the link it crossed.
const NetworkLinks = "emulated link"

// Schema names the JSON document a run produces.
const Schema = "netduel.run/v1"

// Report is the outcome of a run: every test's Result, and where they ran.
type Report struct {
	Schema   string    `json:"schema"`
	Version  string    `json:"netduel_version"`
	Started  time.Time `json:"started"`
	Server   string    `json:"server"`          // the server's address
	Embedded bool      `json:"embedded"`        // the server ran in-process
	Network  string    `json:"network"`         // the Network the client used, e.g. "os"
	Sweep    bool      `json:"sweep,omitempty"` // results form a loss × delay grid of cells
	Results  []Result  `json:"results"`
	// PortConflicts: for an embedded server on loopback, what TCP and UDP
	// sharing its port number means for other binds, tried after the run.
	PortConflicts *PortConflicts `json:"port_conflicts,omitempty"`
	// Error says why the run failed (a server that refused or could not be
	// reached, a test that failed, an interrupt); Results still hold every
	// test that finished and the one that failed, with its own error.
	Error string `json:"error,omitempty"`
	// Interrupted says a signal (Ctrl-C, SIGTERM) stopped the run early.
	Interrupted bool `json:"interrupted,omitempty"`
}

// PortConflicts are the port experiments run on the server's port.
type PortConflicts struct {
	Port        int               `json:"port"`
	Experiments []port.Experiment `json:"experiments"`
}

// Extent says how much of a test was measured: a figure that was not is
// absent from the result's JSON (and its CSV cell empty), never a zero.
type Extent uint8

const (
	// Measured: every figure the test has (it finished, or failed midway
	// with both ends' counts until then).
	Measured Extent = iota
	// ClientOnly: the client's own figures only; the server's count of what
	// arrived (received, lost, reordered, duplicate and corrupt frames,
	// lost_pct, goodput, jitter, intervals) is unknown: the test was
	// interrupted, the server's report was lost, or it was refused as
	// inconsistent. Round-trip tests count on the client, so they keep theirs.
	ClientOnly
	// NotRun: the test never started (the server could not be reached or
	// refused it): only its protocol, test, size and error, and in a sweep
	// or across a link its cell and link.
	NotRun
)

// Result is one test's outcome, with both ends' views merged. A failed test is
// stored as data: Error says what happened, Extent how much was measured, and
// the counters hold what was measured until then. Counts are never negative
// and no number is NaN or Inf.
type Result struct {
	// Cell names the link configuration in a sweep, e.g. "loss 1%, delay 20ms"
	// (empty for a single link).
	Cell      string  `json:"cell,omitempty"`
	Proto     Proto   `json:"proto"` // "tcp" or "udp"
	Test      Test    `json:"test"`  // "throughput" or "latency"
	DurationS float64 `json:"duration_s"`
	Size      int     `json:"size"` // frame bytes on the wire (header + body)

	// Frames: for throughput, data frames sent by the client and counted by the
	// server; for latency, requests sent and replies matched in time, where lost
	// means timed out and reordered means a reply that came back late.
	SentFrames      uint64  `json:"sent_frames"`
	ReceivedFrames  uint64  `json:"received_frames"`
	LostFrames      uint64  `json:"lost_frames"`
	ReorderedFrames uint64  `json:"reordered_frames"`
	DuplicateFrames uint64  `json:"duplicate_frames"`
	CorruptFrames   uint64  `json:"corrupt_frames"`
	LostPct         float64 `json:"lost_pct"`

	GoodputBps float64  `json:"goodput_bps"`           // verified body bits delivered per second
	OfferedBps *float64 `json:"offered_bps,omitempty"` // UDP throughput: bits/s handed to the stack
	// SenderRefused (UDP throughput): frames the client's own stack refused
	// (ENOBUFS, a full queue): counted lost, never on the wire.
	SenderRefused *uint64 `json:"sender_refused,omitempty"`
	// LostBeforeLink (UDP throughput across an emulated link, frames of one
	// packet each): frames the client's stack took that never reached the
	// link: its device dropped them (tun: the forwarder lagged; the kernel's
	// device_drops count a super-packet of up to 64 frames once). Counted
	// lost.
	LostBeforeLink *uint64 `json:"lost_before_link,omitempty"`
	// LostInLink (likewise): frames the link still held when the test's
	// count closed, a queue the settle time could not drain (a rate far below
	// the offered load). Counted lost.
	LostInLink   *uint64  `json:"lost_in_link,omitempty"`
	RequestedBps *float64 `json:"requested_bps,omitempty"` // UDP throughput: the --bitrate asked for (0 = unpaced)
	// UDPChecksumOff (UDP): the client sent its datagrams without a UDP
	// checksum, so corruption on the way is caught by the frame CRC32C
	// (corrupt_frames), not discarded by the server's kernel.
	UDPChecksumOff bool `json:"udp_checksum_off,omitempty"`
	// Search is how --bitrate max found RequestedBps.
	Search *RateSearch `json:"bitrate_search,omitempty"`

	RTT *stats.RTTSummary `json:"rtt_us,omitempty"` // latency tests
	// RTTHistogram is the round-trip distribution behind RTT (latency tests):
	// the HDR histogram in HdrHistogram's V2 compressed encoding, base64
	// (stats.DecodeRTT reads it), so plots and later tools see every bucket.
	RTTHistogram string `json:"rtt_histogram,omitempty"`
	// Wait is how each end waited for the next message of a latency test:
	// what the round trips measured include.
	Wait   *Waits   `json:"wait,omitempty"`
	Jitter *Jitter  `json:"jitter_ms,omitempty"` // UDP throughput
	TCP    *TCPInfo `json:"tcp,omitempty"`       // where the OS gives it

	Link      *LinkInfo        `json:"link,omitempty"` // the emulated link, when there is one
	Lifecycle Lifecycle        `json:"lifecycle"`
	Intervals []stats.Interval `json:"intervals,omitempty"` // with --interval
	Error     string           `json:"error,omitempty"`
	// Warnings are figures to take with care, one sentence each: a UDP sender
	// that offered less than 95% of the rate asked for.
	Warnings []string `json:"warnings,omitempty"`
	// Extent is how much was measured; in JSON it is which fields are there
	// (MarshalJSON leaves out what was not measured).
	Extent Extent `json:"-"`

	// deliveredBps (UDP throughput) is the frame bits per second the receiver
	// took in over its own span, for a bit rate search.
	deliveredBps float64
}

// Jitter is RFC 3550 interarrival jitter over the run, in milliseconds: the
// receiver's stats.JitterSummary (Jitter(summary) converts it) under the
// result's JSON names.
type Jitter struct {
	Samples uint64  `json:"-"`
	MeanMs  float64 `json:"mean"`
	MaxMs   float64 `json:"max"`
	LastMs  float64 `json:"last"`
}

// TCPInfo is the kernel's view of the client's data connection: tcp.Info,
// with its smoothed RTT in microseconds.
type TCPInfo struct {
	tcp.Info
	RTTUS float64 `json:"rtt_us"` // smoothed RTT
}

func tcpInfo(i tcp.Info) *TCPInfo { return &TCPInfo{Info: i, RTTUS: us(i.RTT)} }

// Lifecycle is the socket lifecycle of a test's data socket, in microseconds.
// Pointers are nil where a step does not exist for the protocol (UDP has no
// listen and no accept) or could not be measured.
type Lifecycle struct {
	SocketUS  *float64 `json:"socket_us,omitempty"`  // client: socket(2)
	BindUS    *float64 `json:"bind_us,omitempty"`    // server: bind(2)
	ListenUS  *float64 `json:"listen_us,omitempty"`  // server: listen(2), TCP only
	ConnectUS *float64 `json:"connect_us,omitempty"` // client: connect(2)
	Handshake bool     `json:"handshake"`            // connect exchanged packets (TCP: SYN, SYN-ACK, ACK)
	AcceptUS  *float64 `json:"accept_us,omitempty"`  // connect start to the server's accept, TCP, same-host server
	// FirstByteUS: from connect(2) starting to the server reading the data
	// socket's first byte (TCP: after the handshake; UDP: the first datagram),
	// same-host server.
	FirstByteUS *float64 `json:"first_byte_us,omitempty"`
	// FirstReplyUS (latency tests): the first request's round trip.
	FirstReplyUS *float64 `json:"first_reply_us,omitempty"`
	CloseUS      *float64 `json:"close_us,omitempty"` // client: close(2)
	// PeerSawClose says whether the server learned the client closed (TCP: FIN;
	// UDP: never), and PeerSawCloseUS how long after the FIN left (same-host
	// server): the FIN's trip. The client sends its FIN once its send buffer
	// is empty, so the time is not the buffer draining; where that cannot be
	// told (netstack throughput), PeerSawCloseUS is absent.
	PeerSawClose   bool     `json:"peer_saw_close"`
	PeerSawCloseUS *float64 `json:"peer_saw_close_us,omitempty"`
}

func ptr(v float64) *float64 { return &v }

func pct(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// Waits says how the client and the server of a latency test waited for each
// message: "blocking" (in recv(2) on a thread of its own, as sockperf does),
// "busy-poll" (spinning on non-blocking receives, --busy-poll) or "netpoller"
// (Go's netpoller: an embedded run, where client and server share a process;
// netstack's sockets; systems other than Linux). Empty: not known (a server
// that does not say).
type Waits struct {
	Client string `json:"client,omitempty"`
	Server string `json:"server,omitempty"`
}
