package duel

// LinkInfo describes the link a result was measured across: its emulator, its
// configuration (netem's terms, one direction; netduel applies it in both), and
// what it did to this test's packets in each direction.
type LinkInfo struct {
	Emulator     string  `json:"emulator"`  // tun, netstack or none
	TCPStack     string  `json:"tcp_stack"` // linux or gvisor
	Congestion   string  `json:"congestion"`
	Loss         float64 `json:"loss"` // percent: the loss model's long-run rate
	LossModel    string  `json:"loss_model,omitempty"`
	DelayMs      float64 `json:"delay_ms"`
	JitterMs     float64 `json:"jitter_ms"`
	Distribution string  `json:"distribution,omitempty"`
	Reorder      float64 `json:"reorder"` // percent
	ReorderGap   int     `json:"reorder_gap,omitempty"`
	Duplicate    float64 `json:"duplicate"` // percent
	Corrupt      float64 `json:"corrupt"`   // percent
	RateBps      float64 `json:"rate_bps"`  // 0 = unlimited
	Queue        int     `json:"queue"`     // packets
	Seed         uint64  `json:"seed"`
	Netem        string  `json:"netem"`          // the equivalent tc netem arguments
	Note         string  `json:"note,omitempty"` // what differs from what was asked
	// Counters for this test's packets, per direction.
	Up   LinkCounters `json:"client_to_server"`
	Down LinkCounters `json:"server_to_client"`
	// What each end's own stack counted during the test (tun: the namespace's
	// /proc/net/snmp; netstack: gVisor's statistics); absent for emulator none,
	// whose host counters other traffic shares.
	ClientStack *StackCounters `json:"client_stack,omitempty"`
	ServerStack *StackCounters `json:"server_stack,omitempty"`
	// Check is the link's self-check (emulator tun or netstack, impairment
	// on): what it did against what was configured.
	Check *LinkCheck `json:"check,omitempty"`
}

// StackCounters are one end's stack counters over a test.
type StackCounters struct {
	// UDPChecksumErrors: datagrams the stack discarded for a bad checksum
	// (Linux: Udp InCsumErrors): corrupted packets that never reached netduel.
	UDPChecksumErrors uint64 `json:"udp_checksum_errors"`
	// TCPRetransmits: TCP segments the stack resent, all its connections
	// (the control connection included).
	TCPRetransmits uint64 `json:"tcp_retransmits"`
	// UDPSocketDrops: datagrams the stack dropped because a socket's receive
	// buffer was full (Linux: Udp RcvbufErrors): the receiver lagged.
	UDPSocketDrops uint64 `json:"udp_socket_drops"`
	// DeviceDrops: packets the end's stack dropped at the link's device: going
	// out, its queue full because the forwarder lagged (they never reached the
	// link and are not in its counters); coming in (tun), the receive backlog
	// full. A UDP sender outrunning the forwarder loses datagrams here. With
	// tun's offloads the kernel counts a dropped super-packet once, though it
	// held up to 64 KiB of datagrams.
	DeviceDrops uint64 `json:"device_drops"`
}

// LinkCounters are what the link did to packets in one direction.
type LinkCounters struct {
	Packets    uint64 `json:"packets"`
	Forwarded  uint64 `json:"forwarded"`
	Dropped    uint64 `json:"dropped"`
	Duplicated uint64 `json:"duplicated"`
	Corrupted  uint64 `json:"corrupted"`
	Reordered  uint64 `json:"reordered"`
	QueueDrops uint64 `json:"queue_drops"`
	DroppedUDP uint64 `json:"dropped_udp"` // UDP datagrams among dropped and queue_drops
	// AddedDelay is the delay the emulator itself added to the packets it
	// held, beyond the model's departure times; absent where it held none.
	AddedDelay *AddedDelay `json:"added_delay,omitempty"`
}

// AddedDelay is how late the emulator handed packets on, in µs.
type AddedDelay struct {
	Packets uint64  `json:"packets"` // packets held and handed on
	P50US   float64 `json:"p50_us"`
	P99US   float64 `json:"p99_us"`
	MaxUS   float64 `json:"max_us"`
	Over1ms uint64  `json:"over_1ms"` // packets more than 1 ms late
	Over5ms uint64  `json:"over_5ms"` // more than 5 ms late: stalls
}
