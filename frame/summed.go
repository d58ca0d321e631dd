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
func (r *Reader) NextSummed() (Header, error) {
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
		crc = crc32.Update(crc, castagnoli, r.buf[r.start:r.start+k])
		r.start += k
		left -= k
	}
	r.bodyCRC = crc
	if frameCRC(crc, hdr[:]) != binary.BigEndian.Uint32(hdr[offCRC:]) {
		return h, ErrChecksum
	}
	return h, nil
}
