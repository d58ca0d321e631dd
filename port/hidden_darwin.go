package port

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// hiddenRanges warns about the AirPlay Receiver's ports on macOS 12 and
// later, asking lsof whether ControlCenter listens on them (only when the
// check includes one: lsof is slow).
func hiddenRanges(ports *PortSet) []hiddenRange {
	if !ports.Has(AirPlayPorts[0]) && !ports.Has(AirPlayPorts[1]) {
		return []hiddenRange{}
	}
	v, err := unix.Sysctl("kern.osproductversion")
	if err != nil {
		return []hiddenRange{}
	}
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < 12 {
		return []hiddenRange{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, _ := exec.CommandContext(ctx, "lsof", "+c", "0", "-nP", "-iTCP:5000", "-iTCP:7000", "-sTCP:LISTEN").Output()
	ls, _ := ParseLsofListeners(bytes.NewReader(b))
	return append([]hiddenRange{}, airplayRanges(major, ls)...)
}
