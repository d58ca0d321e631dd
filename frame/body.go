package frame

import (
	"bytes"
	"hash/crc32"
	"sync"
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

// patternCRCs caches PatternCRC's values per body length.
var patternCRCs sync.Map // int -> *[patternOffsets]uint32

// PatternCRC returns BodyCRC of the pattern body of n bytes for sequence number
// seq. Values are computed once per body length (for all 251 offsets) and
// cached, so a receiver can check a body by the CRC it already computed and a
// sender can seal a frame without touching its body.
func PatternCRC(n int, seq uint64) uint32 {
	v, ok := patternCRCs.Load(n)
	if !ok {
		var crcs [patternOffsets]uint32
		body := make([]byte, n)
		for i := range crcs {
			FillBody(body, uint64(i))
			crcs[i] = BodyCRC(body)
		}
		v, _ = patternCRCs.LoadOrStore(n, &crcs)
	}
	return v.(*[patternOffsets]uint32)[seq%patternOffsets]
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
