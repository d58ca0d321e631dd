package frame

import "bytes"

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

// FillBody writes the body pattern for sequence number seq into body.
func FillBody(body []byte, seq uint64) {
	j := patternStart(seq)
	for len(body) > 0 {
		n := copy(body, pattern[j:])
		body = body[n:]
		j = 0
	}
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
