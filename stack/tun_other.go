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
}

// OpenTUN fails off Linux.
func OpenTUN(*Namespace, string, netip.Addr, netip.Addr, int) (*TUN, error) {
	return nil, errors.New("TUN devices in network namespaces are Linux-only")
}

// TxDrops is never reached off Linux.
func (t *TUN) TxDrops() (uint64, error) { return 0, errors.New("no TUN devices here") }
