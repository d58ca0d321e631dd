package stack

import (
	"net"
	"net/netip"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket addresses as the kernel gives them to a Blocking and takes them
// back, without the net package's allocations.

// sockaddrPort converts a received source address, IPv4-mapped addresses as
// the kernel gives them (the caller unmaps), and a link-local source's scope
// as its zone (the interface's name, as the net package names it), so that
// a reply to it goes out of the interface it came in by.
func sockaddrPort(sa *unix.RawSockaddrAny, zones *zoneCache) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), ntohs(a.Port))
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		addr := netip.AddrFrom16(a.Addr)
		if a.Scope_id != 0 {
			addr = addr.WithZone(zones.name(a.Scope_id))
		}
		return netip.AddrPortFrom(addr, ntohs(a.Port))
	}
	return netip.AddrPort{}
}

// zoneCache maps IPv6 scope IDs to zones and back, remembering the last one
// (a socket's peers are on one or few interfaces): looking an interface up
// asks the kernel for all of them.
type zoneCache struct {
	id   uint32
	zone string
}

// name is the zone of scope id: the interface's name, or the number when
// the interface is gone.
func (z *zoneCache) name(id uint32) string {
	if z.id != id || z.zone == "" {
		z.id, z.zone = id, strconv.FormatUint(uint64(id), 10)
		if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
			z.zone = ifi.Name
		}
	}
	return z.zone
}

// scope is the scope ID of zone (an interface's name or index); 0 when
// there is no such interface.
func (z *zoneCache) scope(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if z.zone != zone {
		id := uint32(0)
		if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
			id = uint32(n)
		} else if ifi, err := net.InterfaceByName(zone); err == nil {
			id = uint32(ifi.Index)
		}
		z.id, z.zone = id, zone
	}
	return z.id
}

func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
