package stack

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TUN is a TUN device (IP packets, no link-layer header) inside a namespace,
// with a point-to-point route to its peer address. Reads return one IP packet
// each; writes inject one. The device vanishes with its namespace.
type TUN struct {
	*os.File
	Name  string
	Local netip.Addr
	Peer  netip.Addr
	ns    *Namespace
}

// OpenTUN creates a TUN device named name inside ns (nil: this namespace), gives
// it address local with the route to peer through it, sets its MTU and brings it
// up. The returned file is non-blocking, served by the runtime's poller.
func OpenTUN(ns *Namespace, name string, local, peer netip.Addr, mtu int) (*TUN, error) {
	t := &TUN{Name: name, Local: local, Peer: peer, ns: ns}
	err := ns.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("opening /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("creating TUN device %s: %w", name, err)
		}
		t.File = os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
		if err := configure(name, local, peer, mtu); err != nil {
			t.File.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// configure sets the device's address, peer route and MTU, and brings it up, via
// netlink in the calling thread's namespace.
func configure(name string, local, peer netip.Addr, mtu int) error {
	if local.Is4() {
		// An IPv4 link carries IPv4 only: no router solicitations or MLD
		// reports crossing the emulated link and skewing its counters.
		f := "/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6"
		if err := os.WriteFile(f, []byte("1"), 0); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("disabling IPv6 on %s: %w", name, err)
		}
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	bits := 32
	if local.Is6() {
		bits = 128
	}
	addr := &netlink.Addr{
		IPNet: &net.IPNet{IP: local.AsSlice(), Mask: net.CIDRMask(bits, bits)},
		Peer:  &net.IPNet{IP: peer.AsSlice(), Mask: net.CIDRMask(bits, bits)},
	}
	if err := h.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("address %s peer %s on %s: %w", local, peer, name, err)
	}
	if mtu > 0 {
		if err := h.LinkSetMTU(link, mtu); err != nil {
			return fmt.Errorf("MTU %d on %s: %w", mtu, name, err)
		}
	}
	// A queue like an Ethernet device's (TUN's default is 500 packets): the
	// kernel drops what overflows it before the forwarder sees it, counted in
	// TxDrops.
	if err := h.LinkSetTxQLen(link, tunTxQueue); err != nil {
		return fmt.Errorf("queue length on %s: %w", name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bringing %s up: %w", name, err)
	}
	return nil
}

const tunTxQueue = 1000

// TxDrops returns how many packets the kernel dropped on their way out through
// the device (its queue full: the reader lagged), read via netlink inside its
// namespace. Those packets never reached the reader.
func (t *TUN) TxDrops() (uint64, error) {
	var n uint64
	err := t.ns.Do(func() error {
		l, err := netlink.LinkByName(t.Name)
		if err != nil {
			return err
		}
		if st := l.Attrs().Statistics; st != nil {
			n = st.TxDropped
		}
		return nil
	})
	return n, err
}
