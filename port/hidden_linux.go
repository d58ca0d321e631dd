package port

import "os"

const reservedFile = "/proc/sys/net/ipv4/ip_local_reserved_ports"

// hiddenRanges reads net.ipv4.ip_local_reserved_ports, at every check: it
// changes at run time.
func hiddenRanges(_ *PortSet) []hiddenRange {
	b, err := os.ReadFile(reservedFile)
	if err != nil {
		return []hiddenRange{}
	}
	return append([]hiddenRange{}, reservedRanges(string(b), reservedFile)...)
}
