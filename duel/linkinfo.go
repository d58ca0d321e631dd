package duel

import (
	"encoding/json"

	"github.com/netduel/netduel/impair"
	"github.com/netduel/netduel/impair/link"
)

// LinkInfo describes the link a result was measured across: its emulator, its
// configuration (netem's terms, one direction; netduel applies it in both), and
// what it did to this test's packets in each direction.
type LinkInfo struct {
	Emulator   string `json:"emulator"`  // tun, netstack or none
	TCPStack   string `json:"tcp_stack"` // linux or gvisor
	Congestion string `json:"congestion"`
	// Forwarder is how the tun emulator's forwarder waits for packets:
	// "blocking" (in the kernel, woken by each) or "polling" (--link-poll:
	// spinning); empty for the other emulators.
	Forwarder    string  `json:"forwarder,omitempty"`
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
	// Slot is netem's slot arguments, ECN netem's ecn, Trace the delivery
	// trace replacing the rate (see linkinfo_netem.go).
	Slot  string     `json:"slot,omitempty"`
	ECN   bool       `json:"ecn,omitempty"`
	Trace *TraceInfo `json:"trace,omitempty"`
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

// StackCounters are one end's own stack counters over a test.
type StackCounters = link.EndStats

// LinkCounters are what the link did to packets in one direction.
type LinkCounters struct {
	impair.Counters
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

// linkInfoFields is LinkInfo without its methods, for encoding/json.
type linkInfoFields LinkInfo

// emulatedOnly are the fields only an emulated link has: with emulator
// none there is no seed and no forwarder to count packets, and zeros would
// say it forwarded and dropped nothing.
var emulatedOnly = map[string]bool{"seed": true, "client_to_server": true, "server_to_client": true}

// MarshalJSON writes the link's fields, leaving out for emulator none those
// only an emulated link has (emulatedOnly).
func (l LinkInfo) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(linkInfoFields(l))
	if err != nil || l.Emulator != "none" {
		return b, err
	}
	return filterObject(b, func(k string) bool { return !emulatedOnly[k] })
}

// UnmarshalJSON reads a link (its counters zero where left out).
func (l *LinkInfo) UnmarshalJSON(b []byte) error {
	var f linkInfoFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*l = LinkInfo(f)
	return nil
}
