package frame

import (
	"encoding/binary"
	"io"
)

// initialBuffer is a Reader's buffer size before any frame needs more.
const initialBuffer = 64 << 10

// Reader reassembles frames from a byte stream (a TCP connection). One read from
// the stream may deliver many small frames; the buffer grows only once a header
// has been validated, and never beyond the frame limit. A Reader is not safe for
// concurrent use.
type Reader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int // unread bytes are buf[start:end]
	err        error
	bodyCRC    uint32
	last       int // the length of the frame Next last returned (see Frame)
}

// NewReader returns a Reader of frames of at most maxFrame bytes (maxFrame <= 0
// means MaxFrameSize) from r.
func NewReader(r io.Reader, maxFrame int) *Reader {
	m := limit(maxFrame)
	return &Reader{r: r, max: m, buf: make([]byte, min(initialBuffer, max(m, HeaderLen)))}
}

// Next returns the next frame. The body is valid until the next call. It returns
// io.EOF at a clean end of stream between frames, io.ErrUnexpectedEOF inside one,
// and the header with ErrChecksum for a corrupt frame (the stream stays in sync, so
// Next may be called again). After any other error the Reader returns that error
// for ever.
func (r *Reader) Next() (Header, []byte, error) {
	r.last = 0
	if r.err != nil {
		return Header{}, nil, r.err
	}
	if err := r.fill(HeaderLen); err != nil {
		return Header{}, nil, r.fail(err)
	}
	h, err := ParseHeader(r.buf[r.start:r.end], r.max)
	if err != nil {
		return Header{}, nil, r.fail(err)
	}
	n := HeaderLen + int(h.BodyLen)
	if err := r.fill(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, nil, r.fail(err)
	}
	f := r.buf[r.start : r.start+n]
	r.start += n
	r.last = n
	body := f[HeaderLen:]
	r.bodyCRC = BodyCRC(body)
	if frameCRC(r.bodyCRC, f) != binary.BigEndian.Uint32(f[offCRC:]) {
		return h, body, ErrChecksum
	}
	return h, body, nil
}

// SetMax changes the frame size limit for the frames Next reads from now on
// (maxFrame <= 0 means MaxFrameSize). A server reads a connection's first frame
// under a small limit and raises it once the connection has proved what it is.
func (r *Reader) SetMax(maxFrame int) { r.max = limit(maxFrame) }

// Grow makes the buffer, through which NextSummed and NextMatched stream
// bodies, at least n bytes long (keeping what it holds unread): a stream
// receiver reads up to that much per read call.
func (r *Reader) Grow(n int) {
	r.last = 0
	if n <= len(r.buf) {
		return
	}
	nb := make([]byte, n)
	r.end = copy(nb, r.buf[r.start:r.end])
	r.start = 0
	r.buf = nb
}

// BodyCRC returns the CRC32C of the body Next last returned, computed while
// checking the frame: compare it with PatternCRC to verify a pattern body
// without another pass over it.
func (r *Reader) BodyCRC() uint32 { return r.bodyCRC }

// Frame returns the whole frame, header and body, that Next last returned
// (nil before the first, or after Next failed to read one), valid until the
// next call: an echo rewrites its header in place and sends it back, without
// copying the body or summing it again (see SealHeader and BodyCRC).
func (r *Reader) Frame() []byte {
	if r.last == 0 || r.err != nil {
		return nil
	}
	return r.buf[r.start-r.last : r.start]
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// fill makes at least n bytes available at buf[start:]. It returns io.EOF when
// the stream ends cleanly before any of them, io.ErrUnexpectedEOF when it ends
// partway.
//
// The buffer never grows to a length a header claims before the bytes arrive:
// only when it is full of unread bytes does it grow, by doubling, so it is never
// more than twice what the peer actually sent (and never beyond the limit). A
// peer that announces a large frame and sends nothing more costs nothing extra.
func (r *Reader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if len(r.buf)-r.start < n && r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	for r.end-r.start < n {
		if r.end == len(r.buf) {
			// Full of unread bytes and still short (so n > len(buf), and n was
			// validated against the limit by ParseHeader): grow in one step.
			nb := make([]byte, min(2*len(r.buf), max(r.max, n)))
			r.end = copy(nb, r.buf[r.start:r.end])
			r.start = 0
			r.buf = nb
		}
		m, err := r.r.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			if r.end-r.start >= n {
				return nil
			}
			if err == io.EOF && r.end > r.start {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
