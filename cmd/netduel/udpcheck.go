package main

import "strings"

// parseUDPChecksum reads --udp-checksum: on (the default) or off. It returns
// whether the checksum is off.
func parseUDPChecksum(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on":
		return false, nil
	case "off":
		return true, nil
	}
	return false, usageErrorf("--udp-checksum %q: want on or off", v)
}
