package frame

import (
	"encoding/binary"
	"hash/crc32"
	"io"
)

// NextSummed reads the next frame like Next but does not hold its body: the
// body streams through the Reader's buffer in pieces, and only its CRC32C is
// kept (BodyCRC). Memory stays at the buffer's size whatever length a header
// claims, and a body of up to the frame limit costs no more than a small one:
// what a receiver that verifies pattern bodies by their CRC needs (a TCP
// throughput receiver facing many peers). It returns the header and the
// errors Next does; the body's length is the header's BodyLen.
func (r *Reader) NextSummed() (Header, error) { return r.nextStreamed(false) }

// NextMatched is NextSummed for a stream of pattern bodies (FillBody): each
// piece of a body is compared with the pattern of its frame's sequence number
// (memcmp speed) rather than summed, and while every piece matches, the body's
// CRC32C is the pattern's (PatternCRC) without a pass over the body. At the
// first piece that differs it sums from there on, starting from the CRC of
// the pattern's bytes so far (which the body's were), so BodyCRC, the frame
// check and the errors are exactly NextSummed's for any stream.
func (r *Reader) NextMatched() (Header, error) { return r.nextStreamed(true) }

func (r *Reader) nextStreamed(match bool) (Header, error) {
	r.last = 0
	if r.err != nil {
		return Header{}, r.err
	}
	if err := r.fill(HeaderLen); err != nil {
		return Header{}, r.fail(err)
	}
	h, err := ParseHeader(r.buf[r.start:r.end], r.max)
	if err != nil {
		return Header{}, r.fail(err)
	}
	var hdr [HeaderLen]byte
	copy(hdr[:], r.buf[r.start:])
	r.start += HeaderLen
	crc := uint32(0)
	matching, pos := match, 0
	for left := int(h.BodyLen); left > 0; {
		if r.start == r.end {
			r.start, r.end = 0, 0
			m, err := r.r.Read(r.buf)
			r.end = m
			if m == 0 {
				if err == nil {
					continue
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return Header{}, r.fail(err)
			}
		}
		k := min(left, r.end-r.start)
		piece := r.buf[r.start : r.start+k]
		if matching && !patternAt(h.Seq, pos, piece) {
			matching, crc = false, patternPrefixCRC(h.Seq, pos)
		}
		if !matching {
			crc = crc32.Update(crc, castagnoli, piece)
		}
		r.start += k
		left -= k
		pos += k
	}
	if matching {
		crc = PatternCRC(int(h.BodyLen), h.Seq)
	}
	r.bodyCRC = crc
	if frameCRC(crc, hdr[:]) != binary.BigEndian.Uint32(hdr[offCRC:]) {
		return h, ErrChecksum
	}
	return h, nil
}
