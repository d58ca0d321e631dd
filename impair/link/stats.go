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

// EndStats are counters one end's own stack keeps (tun: the namespace's
// /proc/net/snmp; netstack: gVisor's statistics): what it discarded and what
// its TCP resent. Known is false where the stack is the host's (emulator
// none), whose counters other traffic shares.
type EndStats struct {
	Known bool `json:"-"`
	// UDPChecksumErrors: datagrams the stack discarded for a bad checksum
	// (Linux: Udp InCsumErrors): corrupted packets that never reached netduel.
	UDPChecksumErrors uint64 `json:"udp_checksum_errors"`
	// TCPRetransmits: TCP segments the stack resent, all its connections
	// (the control connection included).
	TCPRetransmits uint64 `json:"tcp_retransmits"`
	// UDPSocketDrops: datagrams the stack dropped because a socket's receive
	// buffer was full (Linux: Udp RcvbufErrors): the receiver lagged.
	UDPSocketDrops uint64 `json:"udp_socket_drops"`
	// DeviceDrops: packets the end's stack dropped at the link's device: going
	// out, its queue full because the forwarder lagged (they never reached the
	// link and are not in its counters); coming in (tun), the receive backlog
	// full. A UDP sender outrunning the forwarder loses datagrams here. With
	// tun's offloads the kernel counts a dropped super-packet once, though it
	// held up to 64 KiB of datagrams.
	DeviceDrops uint64 `json:"device_drops"`
}

// Sub returns the counts since an earlier reading (never below zero), or
// nil where either reading is unknown.
func (s EndStats) Sub(before EndStats) *EndStats {
	if !s.Known || !before.Known {
		return nil
	}
	d := func(a, b uint64) uint64 { return a - min(a, b) }
	return &EndStats{Known: true,
		UDPChecksumErrors: d(s.UDPChecksumErrors, before.UDPChecksumErrors),
		TCPRetransmits:    d(s.TCPRetransmits, before.TCPRetransmits),
		UDPSocketDrops:    d(s.UDPSocketDrops, before.UDPSocketDrops),
		DeviceDrops:       d(s.DeviceDrops, before.DeviceDrops),
	}
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
