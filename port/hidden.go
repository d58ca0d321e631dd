package port

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// hiddenRange is a range of ports the OS sets aside in a way its socket table
// does not show: Check gives the ports in it a warning with code.
type hiddenRange struct {
	code   string
	proto  Proto // "" for both
	lo, hi int
	// message and advice of the warning.
	message, advice string
}

func (h hiddenRange) covers(proto Proto, p int) bool {
	return p >= h.lo && p <= h.hi && (h.proto == "" || h.proto == proto)
}

// reservedRanges turns the contents of Linux's ip_local_reserved_ports ("",
// "8080", "8080,9000-9100") into warnings: the kernel only keeps the ports out
// of automatic assignment (ephemeral ports and bind to port 0); any server may
// still bind them.
func reservedRanges(contents, source string) []hiddenRange {
	var set PortSet
	for item := range strings.SplitSeq(strings.TrimSpace(contents), ",") {
		lo, hi, err := parseItem(strings.TrimSpace(item), contents)
		if err != nil {
			continue
		}
		for p := lo; p <= hi; p++ {
			set.Add(p)
		}
	}
	var out []hiddenRange
	for _, r := range set.Ranges() { // overlapping items merged: one warning per port
		out = append(out, hiddenRange{code: WarnReserved, lo: r[0], hi: r[1],
			message: "reserved in net.ipv4.ip_local_reserved_ports (" + source + "): the kernel never gives it to outgoing connections or binds to port 0",
			advice:  "that only stops automatic assignment, not another server binding it: a good home for your server's port, but check it is free"})
	}
	return out
}

// ExcludedRange is one line of 'netsh interface ipv4 show excludedportrange':
// ports Windows refuses to bind (WSAEACCES with nothing listening).
type ExcludedRange struct {
	Lo, Hi int
	// Admin marks an administered exclusion (netsh add excludedportrange,
	// shown with '*'); the others are taken at run time by Hyper-V, WinNAT,
	// Docker or WSL.
	Admin bool
}

// ParseExcludedPortRanges reads the output of 'netsh interface ipv4 show
// excludedportrange protocol=tcp|udp'. Headings are localised, so it takes
// every line that is two port numbers and, optionally, a '*'.
func ParseExcludedPortRanges(r io.Reader) ([]ExcludedRange, error) {
	var out []ExcludedRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 && !(len(fs) == 3 && fs[2] == "*") {
			continue
		}
		lo, err1 := strconv.Atoi(fs[0])
		hi, err2 := strconv.Atoi(fs[1])
		if err1 != nil || err2 != nil || lo < 1 || hi > MaxPort || lo > hi {
			continue
		}
		out = append(out, ExcludedRange{Lo: lo, Hi: hi, Admin: len(fs) == 3})
	}
	return out, sc.Err()
}

// excludedRanges turns Windows' excluded port ranges of one protocol into
// warnings.
func excludedRanges(proto Proto, rs []ExcludedRange) []hiddenRange {
	out := make([]hiddenRange, 0, len(rs))
	for _, r := range rs {
		h := hiddenRange{code: WarnExcluded, proto: proto, lo: r.Lo, hi: r.Hi,
			message: "inside an excluded port range of " + strings.ToUpper(string(proto)) + " (" + strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi) + ", taken by Hyper-V, WinNAT, Docker or WSL): binds fail with WSAEACCES though nothing listens",
			advice:  "use a port outside (netsh interface ipv4 show excludedportrange protocol=" + string(proto) + "), or, as administrator, reserve yours before they take it: netsh int ipv4 add excludedportrange protocol=" + string(proto) + " startport=PORT numberofports=1"}
		if r.Admin {
			h.message = "inside an administered excluded port range of " + strings.ToUpper(string(proto)) + " (" + strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi) + "): binds fail with WSAEACCES though nothing listens"
			h.advice = "use a port outside it, or, as administrator, remove it: netsh int ipv4 delete excludedportrange protocol=" + string(proto) + " startport=" + strconv.Itoa(r.Lo) + " numberofports=" + strconv.Itoa(r.Hi-r.Lo+1)
		}
		out = append(out, h)
	}
	return out
}

// AirPlayPorts are the TCP ports macOS 12 and later's AirPlay Receiver
// (the ControlCenter process) listens on.
var AirPlayPorts = []int{5000, 7000}

// LsofListener is one listening socket in lsof's output.
type LsofListener struct {
	Command string
	PID     int
	User    string
	Port    int
}

// ParseLsofListeners reads the output of 'lsof -nP -iTCP -sTCP:LISTEN': the
// columns COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME, NAME being
// "*:5000 (LISTEN)" or "[::1]:7000 (LISTEN)".
func ParseLsofListeners(r io.Reader) ([]LsofListener, error) {
	var out []LsofListener
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 9 || fs[0] == "COMMAND" {
			continue
		}
		pid, err := strconv.Atoi(fs[1])
		if err != nil {
			continue
		}
		name := fs[8]
		i := strings.LastIndexByte(name, ':')
		if i < 0 {
			continue
		}
		p, err := strconv.Atoi(name[i+1:])
		if err != nil || p < 1 || p > MaxPort {
			continue
		}
		// lsof shortens long command names and escapes spaces as \x20.
		out = append(out, LsofListener{Command: strings.ReplaceAll(fs[0], `\x20`, " "), PID: pid, User: fs[2], Port: p})
	}
	return out, sc.Err()
}

// airplayRanges warns about the AirPlay Receiver's ports on macOS 12 and
// later (major is the macOS major version), saying whether ControlCenter
// listens on them now (from lsof).
func airplayRanges(major int, ls []LsofListener) []hiddenRange {
	if major < 12 {
		return nil
	}
	var out []hiddenRange
	for _, p := range AirPlayPorts {
		h := hiddenRange{code: WarnAirPlay, proto: TCP, lo: p, hi: p,
			message: "macOS 12 and later's AirPlay Receiver (ControlCenter) listens here when it is on",
			advice:  "use another port, or turn it off: System Settings > General > AirDrop & Handoff > AirPlay Receiver"}
		for _, l := range ls {
			// lsof cuts command names to 9 characters without +c 0.
			if l.Port == p && strings.HasPrefix(l.Command, "ControlCe") {
				h.message = "taken by macOS's AirPlay Receiver (ControlCenter, pid " + strconv.Itoa(l.PID) + ")"
				break
			}
		}
		out = append(out, h)
	}
	return out
}
