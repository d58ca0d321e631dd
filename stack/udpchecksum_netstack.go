package stack

import (
	"errors"
	"net"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// dialUDPNoChecksum is gonet.DialUDP with the endpoint's SO_NO_CHECK
// equivalent set before it connects: its datagrams carry no UDP checksum.
func (n *Netstack) dialUDPNoChecksum(fa tcpip.FullAddress) (net.Conn, error) {
	var wq waiter.Queue
	ep, terr := n.s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	ep.SocketOptions().SetNoChecksum(true)
	if terr := ep.Connect(fa); terr != nil {
		ep.Close()
		return nil, &net.OpError{Op: "connect", Net: "udp", Addr: &net.UDPAddr{IP: net.IP(fa.Addr.AsSlice()), Port: int(fa.Port)}, Err: errors.New(terr.String())}
	}
	return newUDPConn(gonet.NewUDPConn(&wq, ep)), nil
}
