package stack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

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
	// Offload: reads and writes carry a virtio_net_hdr (see OpenTUNOffload).
	Offload bool
	ns      *Namespace
	rc      syscall.RawConn // for writev; set on first use by the (single) writer
	// The writer's writev, made once: a closure and its captures made per
	// packet cost three allocations a packet, a collection every few seconds
	// at 10k packets/s.
	wiov  [2][]byte
	werr  error
	write func(fd uintptr) bool
}

// OpenTUN creates a TUN device named name inside ns (nil: this namespace), gives
// it address local with the route to peer through it, sets its MTU and brings it
// up. The returned file is non-blocking, served by the runtime's poller.
func OpenTUN(ns *Namespace, name string, local, peer netip.Addr, mtu int) (*TUN, error) {
	return openTUN(ns, name, local, peer, mtu, false)
}

// OpenTUNOffload is OpenTUN with segmentation offloads, where the kernel has
// them: every read and write starts with a 10-byte virtio_net_hdr (VnetHdrLen),
// reads may return a TCP or UDP packet of up to 64 KiB for the reader to cut
// into MTU-sized segments (or to pass on whole, written with the same header),
// and checksums may be left partial (VirtioNeedsCsum). Offload is false when
// the kernel refused: the device then works as OpenTUN's.
func OpenTUNOffload(ns *Namespace, name string, local, peer netip.Addr, mtu int) (*TUN, error) {
	return openTUN(ns, name, local, peer, mtu, true)
}

// VnetHdrLen is the length of the virtio_net_hdr before each packet of an
// offloading TUN device.
const VnetHdrLen = 10

// TUN offload flags (linux/if_tun.h).
const (
	tunFCsum = 0x01
	tunFTSO4 = 0x02
	tunFTSO6 = 0x04
	tunFUSO4 = 0x20
	tunFUSO6 = 0x40
)

func openTUN(ns *Namespace, name string, local, peer netip.Addr, mtu int, offload bool) (*TUN, error) {
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
		flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if offload {
			flags |= unix.IFF_VNET_HDR
		}
		ifr.SetUint16(flags)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("creating TUN device %s: %w", name, err)
		}
		if offload {
			// TCP and UDP segmentation offload; UDP's needs Linux 6.2.
			err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunFCsum|tunFTSO4|tunFTSO6|tunFUSO4|tunFUSO6)
			if err != nil {
				err = unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunFCsum|tunFTSO4|tunFTSO6)
			}
			t.Offload = err == nil
			if !t.Offload {
				// No offloads: the header would only cost bytes; start over plain.
				unix.Close(fd)
				return errRetryPlain
			}
		}
		t.File = os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
		if err := configure(name, local, peer, mtu); err != nil {
			t.File.Close()
			return err
		}
		return nil
	})
	if err == errRetryPlain {
		return openTUN(ns, name, local, peer, mtu, false)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

var errRetryPlain = errors.New("no TUN offloads")

// WritePacket writes one packet, after hdr (an offloading device's
// virtio_net_hdr; nil otherwise) in the same system call, allocating nothing. One
// goroutine writes.
func (t *TUN) WritePacket(hdr, pkt []byte) error {
	if len(hdr) == 0 {
		_, err := t.Write(pkt)
		return err
	}
	if t.rc == nil {
		rc, err := t.SyscallConn()
		if err != nil {
			return err
		}
		t.rc = rc
		t.write = func(fd uintptr) bool {
			_, t.werr = unix.Writev(int(fd), t.wiov[:])
			return t.werr != unix.EAGAIN
		}
	}
	t.wiov = [2][]byte{hdr, pkt}
	err := t.rc.Write(t.write)
	t.wiov = [2][]byte{} // the caller may recycle pkt
	if err != nil {
		return err
	}
	return t.werr
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

// Drops returns how many packets the kernel dropped at the device, read via
// netlink inside its namespace: on their way out (its queue full: the reader
// lagged; they never reached the reader) and on their way in (written by the
// forwarder faster than the stack takes them: the receive backlog full).
func (t *TUN) Drops() (uint64, error) {
	var n uint64
	err := t.ns.Do(func() error {
		l, err := netlink.LinkByName(t.Name)
		if err != nil {
			return err
		}
		if st := l.Attrs().Statistics; st != nil {
			n = st.TxDropped + st.RxDropped
		}
		return nil
	})
	return n, err
}
