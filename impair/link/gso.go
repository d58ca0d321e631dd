package link

import (
	"encoding/binary"
	"errors"
)

// virtio_net_hdr, as an offloading TUN device puts it before each packet
// (linux/virtio_net.h), in the machine's byte order.
type vnetHdr struct {
	flags      uint8
	gsoType    uint8
	hdrLen     uint16
	gsoSize    uint16
	csumStart  uint16
	csumOffset uint16
}

const (
	vnetNeedsCsum = 1    // VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum is partial
	gsoNone       = 0    // VIRTIO_NET_HDR_GSO_NONE
	gsoTCPv4      = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	gsoTCPv6      = 4    // VIRTIO_NET_HDR_GSO_TCPV6
	gsoUDPL4      = 5    // VIRTIO_NET_HDR_GSO_UDP_L4
	gsoECN        = 0x80 // VIRTIO_NET_HDR_GSO_ECN
)

func parseVnetHdr(b []byte) vnetHdr {
	e := binary.NativeEndian
	return vnetHdr{flags: b[0], gsoType: b[1], hdrLen: e.Uint16(b[2:]), gsoSize: e.Uint16(b[4:]),
		csumStart: e.Uint16(b[6:]), csumOffset: e.Uint16(b[8:])}
}

var errBadPacket = errors.New("malformed packet from the device")

// segments reports how many MTU-sized packets an offloaded packet stands for.
func (h vnetHdr) segments(pkt []byte) int {
	if h.gsoType&^gsoECN == gsoNone || h.gsoSize == 0 {
		return 1
	}
	l4 := l4Start(pkt)
	if l4 < 0 {
		return 1
	}
	hl := l4 + 8
	if pkt[9] == protoTCP && len(pkt) >= l4+20 {
		hl = l4 + max(20, int(pkt[l4+12]>>4)*4)
	}
	if len(pkt) <= hl {
		return 1
	}
	return (len(pkt) - hl + int(h.gsoSize) - 1) / int(h.gsoSize)
}

const (
	protoTCP = 6
	protoUDP = 17
)

// l4Start returns where an IPv4 packet's transport header starts, or -1.
func l4Start(pkt []byte) int {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return -1
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || len(pkt) < ihl+8 {
		return -1
	}
	return ihl
}

// cut turns what an offloading device handed over (h, pkt) into ordinary IPv4
// packets with complete checksums, as a wire would carry them, and passes each
// to emit in order: a TCP or UDP super-packet is cut into gso_size pieces, each
// with its own IP header (length, id, checksum) and transport header (TCP:
// sequence number, FIN and PSH on the last piece only, CWR on the first only;
// UDP: length), and a partial checksum is completed. alloc gives each packet
// its buffer (pkt itself is never passed on: its buffer is the reader's).
func cut(h vnetHdr, pkt []byte, alloc func(n int) []byte, emit func([]byte)) error {
	gso := h.gsoType &^ gsoECN
	if gso == gsoNone || h.gsoSize == 0 {
		seg := alloc(len(pkt))[:len(pkt)]
		copy(seg, pkt)
		if h.flags&vnetNeedsCsum != 0 {
			if err := completeChecksum(seg, int(h.csumStart), int(h.csumOffset)); err != nil {
				return err
			}
		}
		emit(seg)
		return nil
	}
	l4 := l4Start(pkt)
	if l4 < 0 {
		return errBadPacket
	}
	proto := pkt[9]
	var hl int
	switch {
	case gso == gsoTCPv4 && proto == protoTCP:
		if len(pkt) < l4+20 || pkt[l4+12]>>4 < 5 {
			return errBadPacket
		}
		hl = l4 + int(pkt[l4+12]>>4)*4
	case gso == gsoUDPL4 && proto == protoUDP:
		hl = l4 + 8
	default:
		return errBadPacket
	}
	if hl > len(pkt) {
		return errBadPacket
	}
	payload := pkt[hl:]
	size := int(h.gsoSize)
	id := binary.BigEndian.Uint16(pkt[4:])
	var seq uint32
	if proto == protoTCP {
		seq = binary.BigEndian.Uint32(pkt[l4+4:])
	}
	for i, off := 0, 0; off < len(payload) || i == 0; i++ {
		n := min(size, len(payload)-off)
		seg := alloc(hl + n)[:hl+n]
		copy(seg, pkt[:hl])
		copy(seg[hl:], payload[off:off+n])
		last := off+n >= len(payload)
		binary.BigEndian.PutUint16(seg[2:], uint16(hl+n))
		binary.BigEndian.PutUint16(seg[4:], id+uint16(i))
		ipChecksum(seg[:l4])
		if proto == protoTCP {
			binary.BigEndian.PutUint32(seg[l4+4:], seq+uint32(off))
			if !last {
				seg[l4+13] &^= 0x01 | 0x08 // FIN, PSH
			}
			if i > 0 {
				seg[l4+13] &^= 0x80 // CWR
			}
			l4Checksum(seg, l4, l4+16)
		} else {
			binary.BigEndian.PutUint16(seg[l4+4:], uint16(8+n))
			l4Checksum(seg, l4, l4+6)
		}
		emit(seg)
		off += n
		if n == 0 {
			break
		}
	}
	return nil
}

// ipChecksum sets an IPv4 header's checksum.
func ipChecksum(hdr []byte) {
	hdr[10], hdr[11] = 0, 0
	binary.BigEndian.PutUint16(hdr[10:], ^fold(sum(hdr, 0)))
}

// l4Checksum sets the TCP or UDP checksum (at offset at) of an IPv4 packet
// whose transport header starts at l4, pseudo-header included.
func l4Checksum(pkt []byte, l4, at int) {
	pkt[at], pkt[at+1] = 0, 0
	s := sum(pkt[12:20], 0) // source and destination addresses
	s += uint64(pkt[9]) + uint64(len(pkt)-l4)
	c := ^fold(sum(pkt[l4:], s))
	if c == 0 && pkt[9] == protoUDP {
		c = 0xffff // UDP: 0 means "no checksum"
	}
	binary.BigEndian.PutUint16(pkt[at:], c)
}

// completeChecksum finishes a partial checksum: the field at start+offset holds
// the pseudo-header's sum, and the sum over everything from start is its
// complement (what the kernel's skb_checksum_help does).
func completeChecksum(pkt []byte, start, offset int) error {
	at := start + offset
	if start < 0 || at+2 > len(pkt) || start > len(pkt) {
		return errBadPacket
	}
	c := ^fold(sum(pkt[start:], 0))
	if c == 0 && len(pkt) > 9 && pkt[9] == protoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(pkt[at:], c)
	return nil
}

// sum adds b as big-endian 16-bit words to acc (ones' complement, unfolded).
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

// fold reduces a 64-bit ones' complement sum to 16 bits.
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
