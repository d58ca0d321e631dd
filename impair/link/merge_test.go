package link

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// segment builds an IPv4 TCP segment of a stream: 12 bytes of options
// (timestamps), flags ACK unless told, the acknowledgement and window fixed.
func segment(seq uint32, payload []byte, flags byte) []byte {
	tcp := make([]byte, 32)
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 9400)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], 777)
	tcp[12] = 8 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 501)
	copy(tcp[20:], []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	p := ipv4(protoTCP, tcp, payload)
	p[6] = 0x40 // DF
	ipChecksum(p[:20])
	l4Checksum(p, 20, 36)
	return p
}

type written struct {
	h   vnetHdr
	pkt []byte
}

// mergeAll passes pkts through a merger, flushing at the end, and returns
// what it wrote to the device.
func mergeAll(t *testing.T, pkts [][]byte) ([]written, *merger) {
	t.Helper()
	var out []written
	m := newMerger(func(hdr, p []byte) error {
		out = append(out, written{parseVnetHdr(hdr), append([]byte(nil), p...)})
		return nil
	}, func(p []byte) {
		for i := range p {
			p[i] = 0xee // a recycled buffer is reused: the merger must be done with it
		}
	})
	for _, p := range pkts {
		m.add(append([]byte(nil), p...))
	}
	m.flush()
	return out, m
}

// uncut turns what the merger wrote back into wire packets, as the receiving
// kernel would see them (cut is the GSO segmentation that reverses GRO).
func uncut(t *testing.T, out []written) [][]byte {
	t.Helper()
	var wire [][]byte
	for _, w := range out {
		if w.h.gsoType == gsoNone {
			if w.h.flags != 0 {
				t.Errorf("a single packet left with header %+v", w.h)
			}
			checksumsValid(t, w.pkt)
			wire = append(wire, w.pkt)
			continue
		}
		if w.h.gsoType != gsoTCPv4 || w.h.flags != vnetNeedsCsum || w.h.csumStart != 20 || w.h.csumOffset != 16 {
			t.Fatalf("super-packet header %+v", w.h)
		}
		if len(w.pkt) > maxSuper || int(binary.BigEndian.Uint16(w.pkt[2:])) != len(w.pkt) {
			t.Fatalf("super-packet of %d bytes, IP length %d", len(w.pkt), binary.BigEndian.Uint16(w.pkt[2:]))
		}
		if refSum(w.pkt[:20]) != 0xffff {
			t.Error("super-packet's IP header checksum")
		}
		wire = append(wire, collect(t, w.h, w.pkt)...)
	}
	return wire
}

func TestMergeJoinsAStream(t *testing.T) {
	const mss = 1448
	stream := func(n int, last int, seq0 uint32) [][]byte {
		var s [][]byte
		seq := seq0
		for i := range n {
			size := mss
			if i == n-1 && last > 0 {
				size = last
			}
			s = append(s, segment(seq, pattern(size), 0x10))
			seq += uint32(size)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		pkts   [][]byte
		writes int
	}{
		{"one segment", stream(1, 0, 1), 1},
		{"ten", stream(10, 0, 1), 1},
		{"ten, the last short", stream(10, 300, 1), 1},
		{"sequence wraps", stream(5, 0, 0xffffff00), 1},
		{"45 fill 64 KiB", stream(45, 0, 1), 1},
		{"46 need two", stream(46, 0, 1), 2},
		{"100", stream(100, 0, 1), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, m := mergeAll(t, tc.pkts)
			if len(out) != tc.writes || m.writes != uint64(tc.writes) || m.segments != uint64(len(tc.pkts)) {
				t.Fatalf("%d segments in %d writes (counted %d writes, %d segments), want %d writes",
					len(tc.pkts), len(out), m.writes, m.segments, tc.writes)
			}
			wire := uncut(t, out)
			if len(wire) != len(tc.pkts) {
				t.Fatalf("%d wire packets back, want %d", len(wire), len(tc.pkts))
			}
			for i, w := range wire {
				// Cut numbers IP ids from the first; the rest is the
				// original, checksums included.
				want := append([]byte(nil), tc.pkts[i]...)
				copy(want[4:6], w[4:6])
				ipChecksum(want[:20])
				if !bytes.Equal(w, want) {
					t.Fatalf("segment %d differs after merging and cutting", i)
				}
			}
		})
	}
}

// TestMergeKeepsApart: a segment that does not continue the one before
// exactly, or is not plain data, is written as it came, and ends the
// super-packet before it.
func TestMergeKeepsApart(t *testing.T) {
	a := segment(1000, pattern(1448), 0x10)
	next := uint32(1000 + 1448)
	change := func(f func(p []byte)) []byte {
		p := segment(next, pattern(1448), 0x10)
		f(p)
		ipChecksum(p[:20])
		l4Checksum(p, 20, 36)
		return p
	}
	udp := ipv4(protoUDP, make([]byte, 8), pattern(100))
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"sequence gap", segment(next+1, pattern(1448), 0x10)},
		{"retransmission", segment(1000, pattern(1448), 0x10)},
		{"longer than the first", segment(next, pattern(1449), 0x10)},
		{"other acknowledgement", change(func(p []byte) { p[31]++ })},
		{"other window", change(func(p []byte) { p[35]++ })},
		{"other timestamp", change(func(p []byte) { p[51]++ })},
		{"CE marked", change(func(p []byte) { p[1] |= 3 })},
		{"other TTL", change(func(p []byte) { p[8]-- })},
		{"other port", change(func(p []byte) { p[21]++ })},
		{"other address", change(func(p []byte) { p[19]++ })},
		{"FIN", segment(next, pattern(1448), 0x11)},
		{"SYN", segment(next, pattern(1448), 0x12)},
		{"RST", segment(next, pattern(1448), 0x14)},
		{"CWR", segment(next, pattern(1448), 0x90)},
		{"ECE", segment(next, pattern(1448), 0x50)},
		{"URG", change(func(p []byte) { p[33] |= 0x20; p[39] = 1 })},
		{"no payload", segment(next, nil, 0x10)},
		{"fragment", change(func(p []byte) { p[6] |= 0x20 })},
		{"IP options", func() []byte { p := append([]byte(nil), a...); p[0] = 0x46; return p }()},
		{"length field lies", change(func(p []byte) { p[3]-- })},
		{"bad TCP checksum", func() []byte { p := segment(next, pattern(1448), 0x10); p[37]++; return p }()},
		{"bad IP checksum", func() []byte { p := segment(next, pattern(1448), 0x10); p[11]++; return p }()},
		{"UDP", udp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := mergeAll(t, [][]byte{a, tc.b})
			if len(out) != 2 {
				t.Fatalf("%d writes, want 2 (kept apart)", len(out))
			}
			if !bytes.Equal(out[0].pkt, a) || !bytes.Equal(out[1].pkt, tc.b) {
				t.Fatal("a packet kept apart was altered")
			}
		})
	}
}

// TestMergeBadFirst: a segment whose checksum fails starts nothing either:
// the good one after it is written alone, the bad one as it came.
func TestMergeBadFirst(t *testing.T) {
	bad := segment(1, pattern(1448), 0x10)
	bad[36] ^= 0x40
	out, _ := mergeAll(t, [][]byte{bad, segment(1449, pattern(1448), 0x10)})
	if len(out) != 2 || !bytes.Equal(out[0].pkt, bad) || out[1].h.gsoType != gsoNone {
		t.Fatalf("%d writes: a bad segment joined", len(out))
	}
}

// TestMergeEnds: a PSH segment or one shorter than the first joins, then
// ends the super-packet; PSH is kept on it.
func TestMergeEnds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags byte
		size  int
	}{
		{"PSH", 0x18, 1448},
		{"short", 0x10, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := [][]byte{segment(1, pattern(1448), 0x10), segment(1449, pattern(tc.size), tc.flags),
				segment(1449+uint32(tc.size), pattern(1448), 0x10)}
			out, _ := mergeAll(t, pkts)
			if len(out) != 2 || out[0].h.gsoType != gsoTCPv4 || out[1].h.gsoType != gsoNone {
				t.Fatalf("%d writes, want the first two joined and the third alone", len(out))
			}
			if got, want := out[0].pkt[33]&0x08, tc.flags&0x08; got != want {
				t.Errorf("super-packet's PSH %#x, want %#x", got, want)
			}
			if out[0].h.gsoSize != 1448 || out[0].h.hdrLen != 52 {
				t.Errorf("gso_size %d, hdr_len %d", out[0].h.gsoSize, out[0].h.hdrLen)
			}
		})
	}
}

func FuzzMerge(f *testing.F) {
	f.Add(segment(1, pattern(100), 0x10), segment(101, pattern(100), 0x18), segment(201, pattern(50), 0x10))
	f.Add(segment(1, pattern(1448), 0x10), segment(1449, pattern(1448), 0x10), ipv4(protoUDP, make([]byte, 8), pattern(3)))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		in := 0
		for _, p := range [][]byte{a, b, c} {
			if hl, n, ok := mergeable(p); ok {
				in += n
				_ = hl
			}
		}
		var out []written
		m := newMerger(func(hdr, p []byte) error {
			out = append(out, written{parseVnetHdr(hdr), append([]byte(nil), p...)})
			return nil
		}, func([]byte) {})
		for _, p := range [][]byte{a, b, c} {
			m.add(append([]byte(nil), p...))
		}
		m.flush()
		if m.segments != 3 {
			t.Fatalf("counted %d segments for 3", m.segments)
		}
		// Every mergeable segment's payload reaches the device, in order.
		got := 0
		for _, w := range out {
			if w.h.gsoType != gsoNone { // its checksum is partial
				got += len(w.pkt) - int(w.h.hdrLen)
			} else if _, n, ok := mergeable(w.pkt); ok {
				got += n
			}
		}
		if got != in {
			t.Fatalf("%d payload bytes written for %d", got, in)
		}
	})
}

// TestFreeListKeepsMTUBuffers: the forwarder recycles its MTU-sized packet
// buffers, not the larger ones a packet over the MTU needed (8192 of those
// held 662 MB in an audit's flood of 65000-byte datagrams).
func TestFreeListKeepsMTUBuffers(t *testing.T) {
	f := newTunForwarder(nil, nil)
	f.put(make([]byte, 1<<16))
	f.put(make([]byte, 100))
	if n := len(f.free); n != 0 {
		t.Fatalf("%d buffers not of the MTU's size recycled", n)
	}
	f.put(f.alloc(MTU))
	if n := len(f.free); n != 1 {
		t.Fatalf("an MTU buffer not recycled (%d)", n)
	}
	if b := f.alloc(MTU + 64); cap(b) != MTU+64 || len(f.free) != 0 {
		t.Fatal("the recycled buffer not reused")
	}
}
