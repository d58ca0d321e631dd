package port

import (
	"net/netip"
)

// Proto is a transport protocol: TCP or UDP.
type Proto string

// The protocols port diagnostics know.
const (
	TCP Proto = "tcp"
	UDP Proto = "udp"
)

// Protos is both protocols, the default of every command.
var Protos = []Proto{TCP, UDP}

// Family is an address family: "ipv4" or "ipv6".
type Family string

// The address families.
const (
	IPv4 Family = "ipv4"
	IPv6 Family = "ipv6"
)

// FamilyOf returns the family of a.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// State is the outcome of a bind attempt.
type State string

// The states Check reports.
const (
	// StateFree: the bind a server would do succeeded (and was released).
	StateFree State = "free"
	// StateInUse: EADDRINUSE, another socket holds the port on an overlapping address.
	StateInUse State = "in_use"
	// StateDenied: EACCES or EPERM, usually a privileged port for this user.
	StateDenied State = "denied"
	// StateUnavailable: the address is not on this host (EADDRNOTAVAIL), or its
	// family is not (IPv6 disabled or absent).
	StateUnavailable State = "unavailable"
)

// Owner is the process that holds a socket.
type Owner struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
	User string `json:"user"`
}

// Warning is one thing to know about a port, with one line of advice.
type Warning struct {
	// Code names the kind of warning: well_known, privileged, reserved,
	// excluded, airplay, ephemeral, time_wait, race.
	Code    string `json:"code"`
	Message string `json:"message"`
	Advice  string `json:"advice"`
}

// The warning codes.
const (
	WarnWellKnown  = "well_known"
	WarnPrivileged = "privileged"
	WarnEphemeral  = "ephemeral"
	WarnTimeWait   = "time_wait"
	WarnRace       = "race"
	// WarnReserved: Linux net.ipv4.ip_local_reserved_ports lists the port.
	WarnReserved = "reserved"
	// WarnExcluded: inside one of Windows' excluded port ranges (Hyper-V,
	// WinNAT, Docker, or an administrator's netsh add excludedportrange).
	WarnExcluded = "excluded"
	// WarnAirPlay: macOS 12 and later's AirPlay Receiver (ControlCenter)
	// listens on the port.
	WarnAirPlay = "airplay"
)

// DefaultAddrs are the addresses Check and Free try when none are given: the
// IPv4 and IPv6 wildcards and loopbacks.
var DefaultAddrs = []netip.Addr{
	netip.IPv4Unspecified(),
	netip.IPv6Unspecified(),
	netip.AddrFrom4([4]byte{127, 0, 0, 1}),
	netip.IPv6Loopback(),
}
