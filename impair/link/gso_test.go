package link

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// refSum is a plain ones' complement sum, 16 bits at a time: the reference
// the checksums are checked against.
func refSum(parts ...[]byte) uint16 {
	var s uint32
	for _, b := range parts {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// checksumsValid checks an IPv4 packet's header and transport checksums.
func checksumsValid(t *testing.T, pkt []byte) {
	t.Helper()
	ihl := int(pkt[0]&0xf) * 4
	if refSum(pkt[:ihl]) != 0xffff {
		t.Errorf("bad IP header checksum")
	}
	pseudo := make([]byte, 12)
	copy(pseudo, pkt[12:20])
	pseudo[9] = pkt[9]
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(pkt)-ihl))
	if refSum(pseudo, pkt[ihl:]) != 0xffff {
		t.Errorf("bad transport checksum")
	}
}

func ipv4(proto byte, l4 []byte, payload []byte) []byte {
	p := make([]byte, 20, 20+len(l4)+len(payload))
	p[0], p[8], p[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(p[2:], uint16(20+len(l4)+len(payload)))
	binary.BigEndian.PutUint16(p[4:], 0x1234)
	copy(p[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	binary.BigEndian.PutUint16(p[10:], ^refSum(p))
	p = append(p, l4...)
	return append(p, payload...)
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func collect(t *testing.T, h vnetHdr, pkt []byte) [][]byte {
	t.Helper()
	var out [][]byte
	err := cut(h, pkt, func(n int) []byte { return make([]byte, n+10) }, func(p []byte) { out = append(out, p) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCutTCP(t *testing.T) {
	tcp := make([]byte, 32) // 12 bytes of options
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 9400)
	binary.BigEndian.PutUint32(tcp[4:], 0xfffff000) // wraps within the packet
	tcp[12] = 8 << 4
	tcp[13] = 0x80 | 0x10 | 0x08 | 0x01 // CWR ACK PSH FIN
	payload := pattern(3500)
	pkt := ipv4(protoTCP, tcp, payload)
	h := vnetHdr{flags: vnetNeedsCsum, gsoType: gsoTCPv4, gsoSize: 1448, csumStart: 20, csumOffset: 16}
	if got := h.segments(pkt); got != 3 {
		t.Fatalf("segments = %d, want 3", got)
	}
	segs := collect(t, h, pkt)
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3", len(segs))
	}
	var joined []byte
	for i, s := range segs {
		n := []int{1448, 1448, 604}[i]
		if len(s) != 52+n || binary.BigEndian.Uint16(s[2:]) != uint16(52+n) {
			t.Errorf("segment %d: %d bytes, IP length %d", i, len(s), binary.BigEndian.Uint16(s[2:]))
		}
		if id := binary.BigEndian.Uint16(s[4:]); id != 0x1234+uint16(i) {
			t.Errorf("segment %d: id %#x", i, id)
		}
		if seq := binary.BigEndian.Uint32(s[24:]); seq != 0xfffff000+uint32(1448*i) {
			t.Errorf("segment %d: seq %#x", i, seq)
		}
		flags := s[33]
		if (flags&0x01 != 0) != (i == 2) || (flags&0x08 != 0) != (i == 2) || (flags&0x80 != 0) != (i == 0) || flags&0x10 == 0 {
			t.Errorf("segment %d: flags %#x", i, flags)
		}
		checksumsValid(t, s)
		joined = append(joined, s[52:]...)
	}
	if !bytes.Equal(joined, payload) {
		t.Error("payload not cut in order")
	}
}

func TestCutUDP(t *testing.T) {
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], 5000)
	binary.BigEndian.PutUint16(udp[2:], 9400)
	payload := pattern(3000)
	pkt := ipv4(protoUDP, udp, payload)
	segs := collect(t, vnetHdr{flags: vnetNeedsCsum, gsoType: gsoUDPL4, gsoSize: 1400, csumStart: 20, csumOffset: 6}, pkt)
	if len(segs) != 3 {
		t.Fatalf("%d segments", len(segs))
	}
	for i, s := range segs {
		n := []int{1400, 1400, 200}[i]
		if ul := binary.BigEndian.Uint16(s[24:]); ul != uint16(8+n) || len(s) != 28+n {
			t.Errorf("segment %d: UDP length %d, %d bytes", i, ul, len(s))
		}
		if !bytes.Equal(s[28:], payload[1400*i:1400*i+n]) {
			t.Errorf("segment %d: payload", i)
		}
		checksumsValid(t, s)
	}
}

// TestCutCompletesPartialChecksum: a single packet with a partial checksum (the
// pseudo-header's sum in the field) leaves with the full one, in its own buffer.
func TestCutCompletesPartialChecksum(t *testing.T) {
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+100))
	pkt := ipv4(protoUDP, udp, pattern(100))
	pseudo := make([]byte, 12)
	copy(pseudo, pkt[12:20])
	pseudo[9] = protoUDP
	binary.BigEndian.PutUint16(pseudo[10:], 108)
	binary.BigEndian.PutUint16(pkt[26:], refSum(pseudo))
	segs := collect(t, vnetHdr{flags: vnetNeedsCsum, csumStart: 20, csumOffset: 6}, pkt)
	if len(segs) != 1 || &segs[0][0] == &pkt[0] {
		t.Fatal("want one packet, copied")
	}
	checksumsValid(t, segs[0])
}

func TestCutRejectsMalformed(t *testing.T) {
	udp := ipv4(protoUDP, make([]byte, 8), pattern(10))
	for name, tc := range map[string]struct {
		h   vnetHdr
		pkt []byte
	}{
		"tcp gso on udp":       {vnetHdr{gsoType: gsoTCPv4, gsoSize: 100}, udp},
		"short":                {vnetHdr{gsoType: gsoUDPL4, gsoSize: 100}, udp[:12]},
		"ipv6 gso":             {vnetHdr{gsoType: gsoTCPv6, gsoSize: 100}, udp},
		"checksum off the end": {vnetHdr{flags: vnetNeedsCsum, csumStart: 20, csumOffset: 100}, udp},
	} {
		err := cut(tc.h, tc.pkt, func(n int) []byte { return make([]byte, n) }, func([]byte) {})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzCut(f *testing.F) {
	tcp := make([]byte, 20)
	tcp[12] = 5 << 4
	f.Add([]byte{1, 1, 0, 0, 100, 0, 20, 0, 16, 0}, ipv4(protoTCP, tcp, pattern(300)))
	f.Add([]byte{1, 5, 0, 0, 50, 0, 20, 0, 6, 0}, ipv4(protoUDP, make([]byte, 8), pattern(120)))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 20, 0, 6, 0}, ipv4(protoUDP, make([]byte, 8), pattern(3)))
	f.Fuzz(func(t *testing.T, hb, pkt []byte) {
		if len(hb) < 10 {
			return
		}
		h := parseVnetHdr(hb)
		if h.gsoSize > 0 && h.gsoSize < 8 {
			return // a tiny segment size only makes many segments
		}
		total := 0
		_ = cut(h, pkt, func(n int) []byte { return make([]byte, n) }, func(p []byte) { total += len(p) })
		_ = h.segments(pkt)
	})
}
