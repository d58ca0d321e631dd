package frame

import (
	"bytes"
	"hash/crc32"
	"sync/atomic"
)

// The body pattern is a pseudo-random table of patternLen bytes, read
// cyclically from an offset that depends on the sequence number. Filling and
// checking are copy and bytes.Equal over table chunks: memmove and memcmp speed.
const (
	patternLen     = 64 << 10
	patternOffsets = 251 // a prime: consecutive sequence numbers start at different offsets
)

var pattern = func() []byte {
	p := make([]byte, patternLen)
	x := uint64(0x9E3779B97F4A7C15) // fixed seed: the pattern is part of the protocol
	for i := 0; i < len(p); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8; j++ {
			p[i+j] = byte(x >> (8 * j))
		}
	}
	return p
}()

func patternStart(seq uint64) int { return int(seq%patternOffsets) * 257 }

// patternCRCs caches PatternCRC's values: a direct-mapped table of
// (length, offset) -> CRC32C in 256 groups, one per length, of its 251
// offsets; each slot is one atomic word (the key in its high half, the CRC in
// its low half), so that a receiver's check of a frame is one load and the
// table's memory is fixed (512 KiB). A value is computed when first asked
// for, for that length and offset alone: one pass over the pattern, as a
// body that does not match costs anyway. Before, the first use of a length
// computed it for all 251 offsets and kept them for good, so a peer that sent
// a frame of every length up to 4 MiB made the server sum 251 bodies per
// frame (about 0.1 s of CPU for a 4 MiB one) and hold 1 KB per length for
// ever.
var patternCRCs [1 << patternSlotBits]atomic.Uint64

const (
	patternSlotBits = 16
	// patternKeyed is the longest length the table keys (23 bits of it, 8
	// of offset and a bit saying the slot is set fit the key's 32); a
	// longer body's CRC is computed every time.
	patternKeyed = 1<<23 - 1
)

// PatternCRC returns BodyCRC of the pattern body of n bytes for sequence number
// seq, from a cache (see patternCRCs): a receiver checks a body by the CRC it
// already computed, or by comparing it with the pattern, and a sender seals a
// frame without touching its body.
func PatternCRC(n int, seq uint64) uint32 {
	if n <= 0 {
		return 0
	}
	if n > patternKeyed {
		return patternPrefixCRC(seq, n)
	}
	off := seq % patternOffsets
	key := 1<<31 | uint64(n)<<8 | off
	// A length's offsets are neighbours (a group of 256 slots, 2 KiB), so
	// a stream's consecutive frames read the same few cache lines; with
	// slots spread at random each check was a cache and TLB miss, 1.3% of
	// a TCP receiver's time at 22k frames a second.
	group := (uint64(n) * 0x9E3779B97F4A7C15) >> (64 - (patternSlotBits - 8))
	slot := &patternCRCs[group<<8|off]
	if v := slot.Load(); v>>32 == key {
		return uint32(v)
	}
	crc := patternPrefixCRC(seq, n)
	slot.Store(key<<32 | uint64(crc))
	return crc
}

// PatternStrip holds the pattern laid out flat, so that the pattern body of any
// sequence number, up to a fixed length, is a slice of it: senders can write
// bodies straight from it (writev) without filling a buffer per frame.
type PatternStrip struct {
	strip []byte
	n     int
}

// NewPatternStrip returns a strip for bodies of n bytes.
func NewPatternStrip(n int) *PatternStrip {
	maxStart := patternStart(patternOffsets - 1)
	strip := make([]byte, maxStart+n)
	for off := 0; off < len(strip); off += patternLen {
		copy(strip[off:], pattern)
	}
	return &PatternStrip{strip: strip, n: n}
}

// Body returns the pattern body of sequence number seq (read-only).
func (p *PatternStrip) Body(seq uint64) []byte {
	j := patternStart(seq)
	return p.strip[j : j+p.n : j+p.n]
}

// FillBody writes the body pattern for sequence number seq into body.
func FillBody(body []byte, seq uint64) {
	j := patternStart(seq)
	for len(body) > 0 {
		n := copy(body, pattern[j:])
		body = body[n:]
		j = 0
	}
}

// patternAt reports whether b holds the bytes of the pattern body of sequence
// number seq from position pos on.
func patternAt(seq uint64, pos int, b []byte) bool {
	j := (patternStart(seq) + pos) % patternLen
	for len(b) > 0 {
		n := min(len(b), patternLen-j)
		if !bytes.Equal(b[:n], pattern[j:j+n]) {
			return false
		}
		b = b[n:]
		j = 0
	}
	return true
}

// patternPrefixCRC is the CRC32C of the first n bytes of the pattern body of
// sequence number seq.
func patternPrefixCRC(seq uint64, n int) uint32 {
	crc, j := uint32(0), patternStart(seq)
	for n > 0 {
		k := min(n, patternLen-j)
		crc = crc32.Update(crc, castagnoli, pattern[j:j+k])
		n -= k
		j = 0
	}
	return crc
}

// CheckBody reports whether body holds the pattern for sequence number seq.
func CheckBody(body []byte, seq uint64) bool {
	j := patternStart(seq)
	for len(body) > 0 {
		n := min(len(body), patternLen-j)
		if !bytes.Equal(body[:n], pattern[j:j+n]) {
			return false
		}
		body = body[n:]
		j = 0
	}
	return true
}
