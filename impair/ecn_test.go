package impair

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// ipv4 crafts an IPv4 header (20 bytes, valid checksum) with the ECN
// codepoint, carrying payload bytes of UDP.
func ipv4(ecn byte, payload int) []byte {
	p := make([]byte, 20+payload)
	p[0], p[1] = 0x45, 0x28<<2|ecn // DSCP AF11 beside the ECN bits
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8], p[9] = 64, 17
	copy(p[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	binary.BigEndian.PutUint16(p[10:], ipv4Checksum(p[:20]))
	return p
}

func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		if i != 10 {
			sum += uint32(binary.BigEndian.Uint16(h[i:]))
		}
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipv6 crafts an IPv6 header with the ECN codepoint in its traffic class.
func ipv6(ecn byte, payload int) []byte {
	p := make([]byte, 40+payload)
	tc := byte(0x28<<2) | ecn
	p[0], p[1] = 0x60|tc>>4, tc<<4|0x0a // flow label bits beside it
	binary.BigEndian.PutUint16(p[4:], uint16(payload))
	p[6], p[7] = 17, 64
	return p
}

// TestECNMarksOverPipe: real IPv4 and IPv6 packets through a Pipe whose
// loss model drops every packet: with ECN, ECT(0), ECT(1) and CE packets
// come out marked CE (other bits, and IPv4's checksum, intact), counted in
// ECNMarked and not in Dropped; not-ECT packets are dropped. Without ECN
// all are dropped. Fails on a model that drops regardless (no packet out),
// or marks without fixing the checksum.
func TestECNMarksOverPipe(t *testing.T) {
	t.Parallel()
	for _, ecnOn := range []bool{true, false} {
		for _, v := range []struct {
			name  string
			craft func(byte, int) []byte
			field func([]byte) byte
		}{
			{"ipv4", ipv4, func(p []byte) byte { return p[1] }},
			{"ipv6", ipv6, func(p []byte) byte { return p[0]<<4 | p[1]>>4 }},
		} {
			var mu sync.Mutex
			var got [][]byte
			loss, _ := ParseLossModel("random 100%")
			p := NewPipe(Config{Loss: loss, ECN: ecnOn}, seeded(1), func(b []byte) {
				mu.Lock()
				got = append(got, b)
				mu.Unlock()
			})
			for _, e := range []byte{ecnNotECT, ecnECT0, ecnECT1, ecnCE} {
				p.Send(v.craft(e, 100))
			}
			c := p.Counters() // no delay: Send hands each packet on itself
			p.Close()
			want := Counters{Packets: 4, Forwarded: 3, Dropped: 1, DroppedUDP: 1, ECNMarked: 3}
			if !ecnOn {
				want = Counters{Packets: 4, Dropped: 4, DroppedUDP: 4}
			}
			if c != want {
				t.Errorf("%s ecn=%v: counters %+v, want %+v", v.name, ecnOn, c, want)
			}
			mu.Lock()
			if len(got) != int(want.Forwarded) {
				t.Fatalf("%s ecn=%v: %d packets out, want %d", v.name, ecnOn, len(got), want.Forwarded)
			}
			for _, b := range got {
				if f := v.field(b); f != 0x28<<2|ecnCE {
					t.Errorf("%s: traffic class %#x, want DSCP kept and CE (%#x)", v.name, f, 0x28<<2|ecnCE)
				}
				if v.name == "ipv4" && binary.BigEndian.Uint16(b[10:]) != ipv4Checksum(b[:20]) {
					t.Errorf("ipv4: checksum %#x, want %#x", binary.BigEndian.Uint16(b[10:]), ipv4Checksum(b[:20]))
				}
				if v.name == "ipv6" && b[1]&0xf != 0x0a {
					t.Errorf("ipv6: flow label bits changed: %#x", b[1])
				}
			}
			mu.Unlock()
		}
	}
}

// TestECNModel: the loss model's decisions are binomial as without ECN,
// but on ECN-capable packets they mark instead of drop; a duplicate of a
// marked packet is marked too (netem clones after marking), and the clone's
// own loss decision marks it rather than dropping it.
func TestECNModel(t *testing.T) {
	t.Parallel()
	loss, _ := ParseLossModel("random 10%")
	m := NewModel(Config{Loss: loss, ECN: true, Duplicate: 0.5}, seeded(4))
	const n = 100_000
	marked, copies := 0, 0
	for i := range n {
		k, v := m.process(time.Duration(i)*time.Microsecond, 100, true)
		copies += k
		for _, x := range v[:k] {
			if x.CE {
				marked++
			}
		}
		if k == 2 && v[1].CE && !v[0].CE {
			t.Fatalf("packet %d: the original marked and its clone not", i)
		}
	}
	c := m.Counters()
	if c.Dropped != 0 || c.ECNMarked != m.Tally().Lost {
		t.Errorf("ECN-capable: dropped %d, marked %d, loss decisions %d", c.Dropped, c.ECNMarked, m.Tally().Lost)
	}
	if ok, lo, hi := binomialOK(int(c.ECNMarked), int(m.Tally().LossTrials), 0.1, 1); !ok {
		t.Errorf("marked %d of %d decisions, outside [%v, %v]", c.ECNMarked, m.Tally().LossTrials, lo, hi)
	}
	if uint64(copies) != c.Forwarded || marked == 0 {
		t.Errorf("%d copies out, %d marked; counters %+v", copies, marked, c)
	}
	m2 := NewModel(Config{Loss: loss, ECN: true}, seeded(4))
	for i := range n {
		m2.process(time.Duration(i)*time.Microsecond, 100, false)
	}
	if c := m2.Counters(); c.ECNMarked != 0 || c.Dropped == 0 {
		t.Errorf("not ECN-capable: %+v; want drops and no marks", c)
	}
}
