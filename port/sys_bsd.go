//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package port

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

func readSysFacts() sysFacts {
	f := sysFacts{
		ephemeralLo: 49152, ephemeralHi: 65535, ephemeralSource: "documented default",
		privilegedBelow: 1024, privilegedSource: "BSD default (net.inet.ip.portrange.reservedhigh)",
	}
	if runtime.GOOS == "darwin" {
		// Since macOS 10.14 any user may bind ports below 1024.
		f.privilegedBelow, f.privilegedSource = 0, "macOS 10.14 and later have no privileged ports"
	}
	lo, err1 := unix.SysctlUint32("net.inet.ip.portrange.first")
	hi, err2 := unix.SysctlUint32("net.inet.ip.portrange.last")
	if err1 == nil && err2 == nil && lo <= hi {
		f.ephemeralLo, f.ephemeralHi, f.ephemeralSource = int(lo), int(hi), "sysctl net.inet.ip.portrange.first/last"
	}
	if runtime.GOOS != "darwin" {
		if n, err := unix.SysctlUint32("net.inet.ip.portrange.reservedhigh"); err == nil {
			f.privilegedBelow, f.privilegedSource = int(n)+1, "sysctl net.inet.ip.portrange.reservedhigh"
		}
	}
	f.canBindPrivileged = os.Geteuid() == 0
	return f
}

func ipv6Disabled() bool { return false }

// defaultV6Only is unknown here: IPV6_V6ONLY is always set explicitly.
func defaultV6Only() int { return -1 }
