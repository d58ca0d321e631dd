package link

import (
	"fmt"
	"os"

	"github.com/netduel/netduel/stack"
)

// tcpECN is the namespaces' net.ipv4.tcp_ecn (per network namespace).
const tcpECN = "/proc/sys/net/ipv4/tcp_ecn"

// enableECN, for a link whose loss model marks ECN-capable packets
// (Config.ECN), makes TCP in both namespaces request ECN (tcp_ecn = 1;
// Linux's default, 2, only accepts it), so that kernel TCP and the programs
// started inside negotiate it and its packets are ECT(0). Without Config.ECN
// it leaves the default.
func (l *Link) enableECN(namespaces ...*stack.Namespace) error {
	if !l.Config.ECN {
		return nil
	}
	for _, ns := range namespaces {
		err := ns.Do(func() error { return os.WriteFile(tcpECN, []byte("1"), 0) })
		if err != nil {
			return fmt.Errorf("requesting ECN in the link's namespaces (%s = 1): %w", tcpECN, err)
		}
	}
	return nil
}
