package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Netstack is a Network on a gVisor tcpip stack in this process: user-space TCP
// and UDP, no privileges needed, any OS. It has one IPv4 NIC whose outgoing
// packets are read with ReadPacket and whose incoming packets are given with
// InjectPacket, so two Netstacks can be joined through an emulated link.
type Netstack struct {
	s    *gvstack.Stack
	ep   *countingEndpoint
	addr netip.Addr
	name string
}

// countingEndpoint is the channel endpoint, counting the packets it drops
// because its queue is full: channel.Endpoint drops them silently (and the
// NIC counts them as sent), so this is the only exact count.
type countingEndpoint struct {
	*channel.Endpoint
	drops atomic.Uint64
}

// WritePackets implements stack.LinkEndpoint.
func (e *countingEndpoint) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	n, err := e.Endpoint.WritePackets(pkts)
	if err == nil && n < pkts.Len() {
		e.drops.Add(uint64(pkts.Len() - n))
	}
	return n, err
}

const nicID = 1

// NewNetstack returns a stack with address addr on its NIC, a default route
// through it, SACK on and the given congestion control ("reno" or "cubic";
// "" = cubic).
func NewNetstack(name string, addr netip.Addr, mtu int, congestion string) (*Netstack, error) {
	if !addr.Is4() {
		return nil, fmt.Errorf("netstack: address %s is not IPv4", addr)
	}
	if congestion == "" {
		congestion = "cubic"
	}
	if congestion != "cubic" && congestion != "reno" {
		return nil, fmt.Errorf("netstack: congestion control %q: gVisor offers reno and cubic", congestion)
	}
	s := gvstack.New(gvstack.Options{
		NetworkProtocols:   []gvstack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []gvstack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	ep := &countingEndpoint{Endpoint: channel.New(4096, uint32(mtu), "")}
	if err := s.CreateNIC(nicID, ep); err != nil {
		return nil, fmt.Errorf("netstack: NIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddrFrom4(addr.As4()).WithPrefix()}
	if err := s.AddProtocolAddress(nicID, pa, gvstack.AddressProperties{}); err != nil {
		return nil, fmt.Errorf("netstack: address: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nicID}})
	sack := tcpip.TCPSACKEnabled(true)
	cc := tcpip.CongestionControlOption(congestion)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &cc, &mod} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); err != nil {
			return nil, fmt.Errorf("netstack: TCP option %T: %v", opt, err)
		}
	}
	return &Netstack{s: s, ep: ep, addr: addr, name: name}, nil
}

// Name implements Network.
func (n *Netstack) Name() string { return "netstack (gVisor " + n.name + ")" }

// Addr returns the NIC's address.
func (n *Netstack) Addr() netip.Addr { return n.addr }

// Close shuts the stack down.
func (n *Netstack) Close() {
	n.ep.Close()
	n.s.Close()
	n.s.Wait()
}

// ReadPacket returns the next IP packet the stack sends, or false when ctx is
// done or the stack closed.
func (n *Netstack) ReadPacket(ctx context.Context) ([]byte, bool) {
	pkt := n.ep.ReadContext(ctx)
	if pkt == nil {
		return nil, false
	}
	defer pkt.DecRef()
	v := pkt.ToView()
	defer v.Release()
	return append([]byte(nil), v.AsSlice()...), true
}

// InjectPacket delivers an IPv4 packet to the stack as if it arrived on its NIC.
func (n *Netstack) InjectPacket(b []byte) {
	pkt := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
	n.ep.InjectInbound(header.IPv4ProtocolNumber, pkt)
	pkt.DecRef()
}

// Stats returns the stack's TCP counters.
func (n *Netstack) Stats() NetstackStats {
	st := n.s.Stats().TCP
	return NetstackStats{
		Retransmits:     st.Retransmits.Value(),
		FastRetransmit:  st.FastRetransmit.Value(),
		Timeouts:        st.Timeouts.Value(),
		SegmentsSent:    st.SegmentsSent.Value(),
		SegmentsRecv:    n.s.Stats().TCP.ValidSegmentsReceived.Value(),
		ChecksumErrors:  st.ChecksumErrors.Value(),
		UDPChecksumErrs: n.s.Stats().UDP.ChecksumErrors.Value(),
		UDPRcvBufErrs:   n.s.Stats().UDP.ReceiveBufferErrors.Value(),
		DeviceDrops:     n.deviceDrops(),
	}
}

// deviceDrops counts the packets the stack sent that never reached ReadPacket:
// the channel endpoint between them drops them when its queue is full (the
// forwarder lagging). Counted as they are dropped, it has no false positives
// from packets in flight.
func (n *Netstack) deviceDrops() uint64 { return n.ep.drops.Load() }

// NetstackStats are a gVisor stack's own counters.
type NetstackStats struct {
	Retransmits, FastRetransmit, Timeouts      uint64
	SegmentsSent, SegmentsRecv, ChecksumErrors uint64
	UDPChecksumErrs                            uint64
	UDPRcvBufErrs                              uint64 // datagrams dropped: a socket's receive buffer was full
	DeviceDrops                                uint64 // packets dropped: the NIC's queue was full
}

func (n *Netstack) full(network, address string) (tcpip.FullAddress, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return tcpip.FullAddress{}, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return tcpip.FullAddress{}, fmt.Errorf("bad port in %q", address)
	}
	fa := tcpip.FullAddress{NIC: nicID, Port: uint16(port)}
	if host != "" {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Unmap().Is4() {
			return tcpip.FullAddress{}, fmt.Errorf("netstack: %q is not an IPv4 address", host)
		}
		fa.Addr = tcpip.AddrFrom4(a.Unmap().As4())
	}
	return fa, nil
}

// Listen implements Network ("tcp" only: the stack is IPv4).
func (n *Netstack) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	fa, err := n.full(network, address)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	ln, err := gonet.ListenTCP(n.s, fa, ipv4.ProtocolNumber)
	if err != nil {
		return nil, err
	}
	if tr := TraceFrom(ctx); tr != nil {
		tr.Bind, tr.HasBind = time.Since(t0), true // bind and listen are one call here
	}
	return ln, nil
}

// ListenPacket implements Network.
func (n *Netstack) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	fa, err := n.full(network, address)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	pc, err := gonet.DialUDP(n.s, &fa, nil, ipv4.ProtocolNumber)
	if err != nil {
		return nil, err
	}
	if tr := TraceFrom(ctx); tr != nil {
		tr.Bind, tr.HasBind = time.Since(t0), true
	}
	return newUDPConn(pc), nil
}

// Dial implements Network.
func (n *Netstack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	fa, err := n.full(network, address)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var c net.Conn
	switch network {
	case "tcp", "tcp4":
		c, err = gonet.DialContextTCP(ctx, n.s, fa, ipv4.ProtocolNumber)
	case "udp", "udp4":
		if noUDPChecksum(ctx) {
			c, err = n.dialUDPNoChecksum(fa)
		} else {
			var uc *gonet.UDPConn
			if uc, err = gonet.DialUDP(n.s, nil, &fa, ipv4.ProtocolNumber); err == nil {
				c = newUDPConn(uc)
			}
		}
	default:
		return nil, net.UnknownNetworkError(network)
	}
	if err != nil {
		return nil, err
	}
	if tr := TraceFrom(ctx); tr != nil {
		tr.Connect, tr.HasConnect = time.Since(t0), true
	}
	return c, nil
}
