//go:build !linux

package stack

import (
	"errors"
	"net/netip"
	"os"
)

// TUN is a Linux TUN device; elsewhere none can be opened.
type TUN struct {
	*os.File
	Name        string
	Local, Peer netip.Addr
	Offload     bool
}

// VnetHdrLen is the virtio_net_hdr length of an offloading device.
const VnetHdrLen = 10

// OpenTUNOffload fails off Linux.
func OpenTUNOffload(ns *Namespace, name string, local, peer netip.Addr, mtu int) (*TUN, error) {
	return OpenTUN(ns, name, local, peer, mtu)
}

// WritePacket is never reached off Linux.
func (t *TUN) WritePacket(hdr, pkt []byte) error { return errors.New("no TUN devices here") }

// OpenTUN fails off Linux.
func OpenTUN(*Namespace, string, netip.Addr, netip.Addr, int) (*TUN, error) {
	return nil, errors.New("TUN devices in network namespaces are Linux-only")
}

// Drops is never reached off Linux.
func (t *TUN) Drops() (uint64, error) { return 0, errors.New("no TUN devices here") }
