package link

import (
	"bytes"
	"encoding/binary"

	"github.com/netduel/netduel/stack"
)

// merger joins the consecutive segments of one TCP stream that a delay line
// hands to the receiving device together into one super-packet, as a NIC's
// receive offload (GRO) joins them, so the receiving kernel takes a burst in
// one write and one pass of its stack rather than one per wire packet.
//
// Every packet is impaired on its own before it gets here (loss, delay, rate,
// the self-check's figures): merging happens after the link, where a
// receiving host's NIC would do it. Without it a burst of a thousand segments
// due together (CUBIC's, as ACKs come back) cost the line a thousand writes
// of about 5 µs each, and the last left 5 ms late.
//
// A segment joins the one before it when its checksums hold, it continues
// its sequence exactly and everything else matches: addresses, ports, TOS
// (so a CE mark), TTL, the acknowledgement, window, header length and
// options (timestamps included), flags only ACK (and PSH, which ends the
// super-packet), and a payload no longer than the first's (a shorter one
// ends it too), up to 64 KiB in all, as Linux's tcp_gro_receive decides.
// Anything else is written as it came. The super-packet leaves behind a
// virtio header (TCPv4 GSO, gso_size the first segment's payload) with a
// partial checksum, the way an offloading device's reads arrive; the
// receiver trusts that checksum, so a link that corrupts packets merges
// nothing (see tunForwarder.merge).
//
// One goroutine uses a merger: the delay line that delivers its direction,
// which calls flush before it waits.
type merger struct {
	write func(hdr, pkt []byte) error // to the device
	put   func([]byte)                // recycles a packet's buffer
	plain []byte                      // the virtio header of a complete packet

	first  []byte // the super-packet's first segment, while it is alone
	buf    []byte // the super-packet, from its second segment on
	n      int    // segments in it (0: none)
	hl     int    // its IP and TCP header length
	mss    int    // its first segment's payload
	next   uint32 // the sequence number that continues it
	closed bool   // a short or PSH segment ended it
	hdr    [stack.VnetHdrLen]byte

	// What it did, for tests and benchmarks: device writes, and the
	// segments they carried.
	writes, segments uint64
}

// maxSuper is the largest super-packet: an IPv4 packet's length field.
const maxSuper = 65535

func newMerger(write func(hdr, pkt []byte) error, put func([]byte)) *merger {
	return &merger{write: write, put: put, plain: make([]byte, stack.VnetHdrLen), buf: make([]byte, 0, maxSuper)}
}

// mergeable returns the header length and payload of an IPv4 TCP data
// segment that may be joined (see merger), or ok false.
func mergeable(p []byte) (hl, payload int, ok bool) {
	if len(p) < 40 || p[0] != 0x45 || p[9] != protoTCP || int(binary.BigEndian.Uint16(p[2:])) != len(p) ||
		binary.BigEndian.Uint16(p[6:])&0x3fff != 0 { // a fragment
		return 0, 0, false
	}
	hl = 20 + int(p[32]>>4)*4
	if hl < 40 || hl >= len(p) {
		return 0, 0, false
	}
	if f := p[33]; f != 0x10 && f != 0x18 || p[38] != 0 || p[39] != 0 { // ACK, ACK|PSH; no urgent data
		return 0, 0, false
	}
	// Both checksums must hold, as GRO checks them: the super-packet's is
	// partial, which the receiver trusts, so a bad segment joined would be
	// taken (a program inside the link can write any packet).
	if fold(sum(p[:20], 0)) != 0xffff || fold(sum(p[20:], sum(p[12:20], 0)+protoTCP+uint64(len(p)-20))) != 0xffff {
		return 0, 0, false
	}
	return hl, len(p) - hl, true
}

// joins says whether segment p (header length hl, payload n) continues the
// super-packet.
func (m *merger) joins(p []byte, hl, n int) bool {
	if m.n == 0 || m.closed || hl != m.hl || n > m.mss || m.length()+n > maxSuper {
		return false
	}
	h := m.head()
	return binary.BigEndian.Uint32(p[24:]) == m.next &&
		p[1] == h[1] && p[6] == h[6] && p[8] == h[8] && // TOS, DF, TTL
		bytes.Equal(p[12:24], h[12:24]) && // addresses, ports
		bytes.Equal(p[28:33], h[28:33]) && // acknowledgement, header length
		bytes.Equal(p[34:36], h[34:36]) && // window
		bytes.Equal(p[40:hl], h[40:hl]) // options
}

// head is the super-packet's first segment's header.
func (m *merger) head() []byte {
	if m.n == 1 {
		return m.first[:m.hl]
	}
	return m.buf[:m.hl]
}

// length is the super-packet's length so far.
func (m *merger) length() int {
	if m.n == 1 {
		return len(m.first)
	}
	return len(m.buf)
}

// add takes a packet the line delivers; its buffer is the merger's now.
func (m *merger) add(p []byte) {
	hl, n, ok := mergeable(p)
	if ok && m.joins(p, hl, n) {
		if m.n == 1 {
			m.buf = append(m.buf[:0], m.first...)
			m.put(m.first)
			m.first = nil
		}
		m.buf = append(m.buf, p[hl:]...)
		m.n++
		m.next += uint32(n)
		if p[33]&0x08 != 0 || n < m.mss {
			m.buf[33] |= p[33] & 0x08 // PSH
			m.closed = true
		}
		m.put(p)
		return
	}
	m.flush()
	if !ok {
		m.out(m.plain, p)
		m.put(p)
		return
	}
	m.first, m.n, m.hl, m.mss, m.closed = p, 1, hl, n, p[33]&0x08 != 0
	m.next = binary.BigEndian.Uint32(p[24:]) + uint32(n)
}

// flush writes the super-packet, if there is one.
func (m *merger) flush() {
	switch m.n {
	case 0:
		return
	case 1:
		m.out(m.plain, m.first)
		m.put(m.first)
		m.first = nil
	default:
		p := m.buf
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		ipChecksum(p[:20])
		// A partial checksum: the pseudo-header's sum, folded, not
		// complemented (what Linux's tcp_v4_send_check leaves for an
		// offloading device).
		s := sum(p[12:20], 0) + protoTCP + uint64(len(p)-20)
		binary.BigEndian.PutUint16(p[36:], fold(s))
		e := binary.NativeEndian
		m.hdr = [stack.VnetHdrLen]byte{0: vnetNeedsCsum, 1: gsoTCPv4}
		e.PutUint16(m.hdr[2:], uint16(m.hl))
		e.PutUint16(m.hdr[4:], uint16(m.mss))
		e.PutUint16(m.hdr[6:], 20)
		e.PutUint16(m.hdr[8:], 16)
		m.segments += uint64(m.n) - 1 // out counts one
		m.out(m.hdr[:], p)
		m.buf = m.buf[:0]
	}
	m.n = 0
}

// out writes one packet to the device.
func (m *merger) out(hdr, p []byte) {
	_ = m.write(hdr, p)
	m.writes++
	m.segments++
}
