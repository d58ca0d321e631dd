package port

import (
	"bytes"
	"context"
	"os/exec"
	"time"
)

// hiddenRanges reads Windows' excluded port ranges for TCP and UDP from netsh
// (no public API lists them). A netsh that fails or is missing gives none.
func hiddenRanges(_ *PortSet) []hiddenRange {
	out := []hiddenRange{}
	for _, proto := range Protos {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b, err := exec.CommandContext(ctx, "netsh", "interface", "ipv4", "show", "excludedportrange", "protocol="+string(proto)).Output()
		cancel()
		if err != nil {
			continue
		}
		rs, _ := ParseExcludedPortRanges(bytes.NewReader(b))
		out = append(out, excludedRanges(proto, rs)...)
	}
	return out
}
