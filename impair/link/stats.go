package link

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/netduel/netduel/stack"
)

// EndStats are counters one end's own stack keeps: what it discarded and what
// its TCP resent. Known is false where the stack is the host's (emulator none),
// whose counters other traffic shares.
type EndStats struct {
	Known             bool
	UDPChecksumErrors uint64 // datagrams discarded for a bad checksum
	TCPRetransmits    uint64 // segments retransmitted (all connections)
	UDPSocketDrops    uint64 // datagrams dropped because a socket's receive buffer was full
	// DeviceDrops: packets this end's stack dropped at the link's device: on
	// the way out, its queue full (the forwarder lagged: they never reached
	// the link, whose counters do not include them); on the way in (tun), the
	// receive backlog full (the forwarder wrote faster than the stack took).
	DeviceDrops uint64
}

// Stats returns the client's and the server's stack counters.
func (l *Link) Stats() (client, server EndStats) {
	if l.stats == nil {
		return EndStats{}, EndStats{}
	}
	client, server = l.stats(l.Client), l.stats(l.Server)
	for i, es := range []*EndStats{&client, &server} {
		if d := l.devices[i]; d != nil {
			if n, err := d.Drops(); err == nil {
				es.DeviceDrops = n
			}
		}
	}
	return client, server
}

func netstackStats(n stack.Network) EndStats {
	ns, ok := n.(*stack.Netstack)
	if !ok {
		return EndStats{}
	}
	st := ns.Stats()
	return EndStats{Known: true, UDPChecksumErrors: st.UDPChecksumErrs, TCPRetransmits: st.Retransmits,
		UDPSocketDrops: st.UDPRcvBufErrs, DeviceDrops: st.DeviceDrops}
}

// namespaceStats reads the namespace's /proc/net/snmp (Udp InCsumErrors, Tcp
// RetransSegs) from a thread inside it.
func namespaceStats(n stack.Network) EndStats {
	o, ok := n.(*stack.OS)
	if !ok || o.NS == nil {
		return EndStats{}
	}
	var es EndStats
	err := o.NS.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		v, err := parseSNMP(b)
		if err != nil {
			return err
		}
		es = EndStats{Known: true, UDPChecksumErrors: v["Udp.InCsumErrors"], TCPRetransmits: v["Tcp.RetransSegs"],
			UDPSocketDrops: v["Udp.RcvbufErrors"]}
		return nil
	})
	if err != nil {
		return EndStats{}
	}
	return es
}

// parseSNMP reads /proc/net/snmp: pairs of lines, "Proto: Name1 Name2 ..." then
// "Proto: v1 v2 ...", into "Proto.Name" keys.
func parseSNMP(b []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var names []string
	var proto string
	for sc.Scan() {
		p, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil || p != proto {
			proto, names = p, f
			continue
		}
		if len(f) != len(names) {
			return nil, fmt.Errorf("snmp: %s has %d values for %d names", p, len(f), len(names))
		}
		for i, v := range f {
			// Some counters (Tcp MaxConn) are signed: keep the non-negative ones.
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				out[p+"."+names[i]] = n
			}
		}
		names = nil
	}
	return out, sc.Err()
}
