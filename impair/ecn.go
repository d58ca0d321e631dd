package impair

import "encoding/binary"

// ECN codepoints, the low two bits of IPv4's TOS and IPv6's traffic class
// (RFC 3168).
const (
	ecnNotECT = 0
	ecnECT1   = 1
	ecnECT0   = 2
	ecnCE     = 3
)

// ecnField returns an IP packet's ECN codepoint, and false for anything but
// a well-formed IPv4 or IPv6 header.
func ecnField(pkt []byte) (byte, bool) {
	if len(pkt) < 1 {
		return 0, false
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < 20 || int(pkt[0]&0xf)*4 < 20 || int(pkt[0]&0xf)*4 > len(pkt) {
			return 0, false
		}
		return pkt[1] & 3, true
	case 6:
		if len(pkt) < 40 {
			return 0, false
		}
		return (pkt[1] >> 4) & 3, true
	}
	return 0, false
}

// ecnCapable says whether the loss model may mark the packet instead of
// dropping it: ECT(0), ECT(1), or already CE (INET_ECN_set_ce succeeds on
// those).
func ecnCapable(pkt []byte) bool {
	e, ok := ecnField(pkt)
	return ok && e != ecnNotECT
}

// setCE marks an ECN-capable IP packet Congestion Experienced, fixing
// IPv4's header checksum as the kernel's IP_ECN_set_ce does (RFC 1624's
// incremental update); IPv6 has none.
func setCE(pkt []byte) {
	e, ok := ecnField(pkt)
	if !ok || e == ecnNotECT || e == ecnCE {
		return
	}
	switch pkt[0] >> 4 {
	case 4:
		old := binary.BigEndian.Uint16(pkt[0:2])
		pkt[1] |= ecnCE
		sum := uint32(^binary.BigEndian.Uint16(pkt[10:12])) + uint32(^old) + uint32(binary.BigEndian.Uint16(pkt[0:2]))
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(pkt[10:12], ^uint16(sum))
	case 6:
		pkt[1] |= ecnCE << 4
	}
}
