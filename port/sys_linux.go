package port

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
)

const (
	ephemeralFile  = "/proc/sys/net/ipv4/ip_local_port_range"
	privilegedFile = "/proc/sys/net/ipv4/ip_unprivileged_port_start"
	disableV6File  = "/proc/sys/net/ipv6/conf/all/disable_ipv6"
	bindV6OnlyFile = "/proc/sys/net/ipv6/bindv6only"
)

// defaultV6Only is the IPV6_V6ONLY a new IPv6 socket starts with (the sysctl
// net.ipv6.bindv6only), or -1 when unknown: sockets made here set the option
// only when it differs, one system call fewer per IPv6 bind.
var defaultV6Only = sync.OnceValue(func() int {
	b, err := os.ReadFile(bindV6OnlyFile)
	if err != nil {
		return -1
	}
	switch strings.TrimSpace(string(b)) {
	case "0":
		return 0
	case "1":
		return 1
	}
	return -1
})

func readSysFacts() sysFacts {
	f := sysFacts{
		ephemeralLo: 32768, ephemeralHi: 60999, ephemeralSource: "Linux default (" + ephemeralFile + " unreadable)",
		privilegedBelow: 1024, privilegedSource: "Linux default (" + privilegedFile + " unreadable)",
	}
	if b, err := os.ReadFile(ephemeralFile); err == nil {
		if fs := strings.Fields(string(b)); len(fs) == 2 {
			lo, err1 := strconv.Atoi(fs[0])
			hi, err2 := strconv.Atoi(fs[1])
			if err1 == nil && err2 == nil && lo <= hi {
				f.ephemeralLo, f.ephemeralHi, f.ephemeralSource = lo, hi, ephemeralFile
			}
		}
	}
	if b, err := os.ReadFile(privilegedFile); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			f.privilegedBelow, f.privilegedSource = n, privilegedFile
		}
	}
	f.canBindPrivileged = os.Geteuid() == 0 || hasCapNetBindService()
	return f
}

// hasCapNetBindService reports whether CAP_NET_BIND_SERVICE (bit 10) is in this
// process's effective capabilities.
func hasCapNetBindService() bool {
	file, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<10) != 0
		}
	}
	return false
}

// ipv6Disabled reports whether IPv6 is switched off on this host (the sysctl),
// or absent from the kernel.
func ipv6Disabled() bool {
	b, err := os.ReadFile(disableV6File)
	if err != nil {
		return true
	}
	return strings.TrimSpace(string(b)) == "1"
}
