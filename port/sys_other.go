//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package port

// readSysFacts gives the documented defaults: Windows (since Vista) gives
// outgoing connections ports 49152-65535 (netsh int ipv4 show dynamicport tcp)
// and has no privileged ports.
func readSysFacts() sysFacts {
	return sysFacts{
		ephemeralLo: 49152, ephemeralHi: 65535, ephemeralSource: "documented default (IANA dynamic ports)",
		privilegedBelow: 0, privilegedSource: "no privileged ports on this OS",
		canBindPrivileged: true,
	}
}

func ipv6Disabled() bool { return false }
