package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestNextSummed: the streamed read returns what Next returns (headers, the
// body's CRC, checksum errors, the end of stream) over every way the stream may
// be cut, and never grows its buffer for a large body.
func TestNextSummed(t *testing.T) {
	t.Parallel()
	sizes := []int{24, 0, 1000, 131072, 24, 1 << 20, 5}
	b, hs := stream(t, sizes...)
	corrupt := bytes.Clone(b)
	corrupt[3*HeaderLen+24+1000/2] ^= 1 // the middle of frame 2's body (frame 1 has none)
	for name, wrap := range streamCuts {
		for _, bad := range []bool{false, true} {
			in := b
			if bad {
				in = corrupt
			}
			for method, next := range streamedReads {
				t.Run(name+"/"+method, func(t *testing.T) {
					rd := NewReader(wrap(bytes.NewReader(in)), 2<<20)
					checkStreamed(t, rd, next, hs, sizes, bad)
				})
			}
		}
	}
	// Cut inside a body: unexpected EOF, for ever after.
	for method, next := range streamedReads {
		rd := NewReader(bytes.NewReader(b[:HeaderLen+10]), 0)
		if _, err := next(rd); err != io.ErrUnexpectedEOF {
			t.Fatalf("%s: cut body: %v, want io.ErrUnexpectedEOF", method, err)
		}
		if _, err := next(rd); err != io.ErrUnexpectedEOF {
			t.Fatalf("%s: after the error: %v", method, err)
		}
	}
}

// streamedReads are the Reader's two streamed reads, which must agree.
var streamedReads = map[string]func(*Reader) (Header, error){
	"summed":  (*Reader).NextSummed,
	"matched": (*Reader).NextMatched,
}

func checkStreamed(t *testing.T, rd *Reader, next func(*Reader) (Header, error), hs []Header, sizes []int, bad bool) {
	t.Helper()
	for i, wh := range hs {
		h, err := next(rd)
		if bad && i == 2 {
			if !errors.Is(err, ErrChecksum) || h != wh {
				t.Fatalf("frame 2: %v %+v, want ErrChecksum with its header", err, h)
			}
			continue
		}
		if err != nil || h != wh {
			t.Fatalf("frame %d: %v %+v, want %+v", i, err, h, wh)
		}
		if rd.BodyCRC() != PatternCRC(sizes[i], wh.Seq) {
			t.Fatalf("frame %d: body CRC %08x, want the pattern's %08x", i, rd.BodyCRC(), PatternCRC(sizes[i], wh.Seq))
		}
	}
	if _, err := next(rd); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
	if len(rd.buf) > initialBuffer {
		t.Fatalf("buffer grew to %d bytes for a %d-byte body", len(rd.buf), 1<<20)
	}
}

// TestNextMatchedOtherBodies: a frame whose body is not the pattern but whose
// CRC is right (another sender's body) is read without error by NextMatched,
// with the body's true CRC, wherever the body first departs from the pattern
// (in the first piece, in a later one, in the last byte).
func TestNextMatchedOtherBodies(t *testing.T) {
	t.Parallel()
	const n = 200 << 10 // several of the Reader's 64 KiB pieces
	for _, at := range []int{0, 1, 70 << 10, n - 1} {
		body := make([]byte, n)
		FillBody(body, 9)
		body[at] ^= 0x5a
		f := make([]byte, HeaderLen+n)
		if _, err := Encode(f, Header{Type: TypeData, Cookie: 1, Seq: 9, BodyLen: n}, body); err != nil {
			t.Fatal(err)
		}
		for method, next := range streamedReads {
			rd := NewReader(iotest.HalfReader(bytes.NewReader(f)), 1<<20)
			if _, err := next(rd); err != nil || rd.BodyCRC() != BodyCRC(body) {
				t.Fatalf("%s, body off the pattern at %d: %v, CRC %08x, want nil and %08x", method, at, err, rd.BodyCRC(), BodyCRC(body))
			}
		}
	}
}

// FuzzNextSummed: on any input the streamed read agrees with Next.
func FuzzNextSummed(f *testing.F) {
	s, _ := stream(f, 24, 0, 300)
	f.Add(s)
	f.Add(s[:50])
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := NewReader(bytes.NewReader(b), 4096), NewReader(iotest.HalfReader(bytes.NewReader(b)), 4096)
		m := NewReader(iotest.OneByteReader(bytes.NewReader(b)), 4096)
		for i := 0; i <= len(b)/HeaderLen+1; i++ {
			h1, _, err1 := a.Next()
			h2, err2 := c.NextSummed()
			h3, err3 := m.NextMatched()
			if h3 != h2 || (err3 == nil) != (err2 == nil) || errors.Is(err3, ErrChecksum) != errors.Is(err2, ErrChecksum) || m.BodyCRC() != c.BodyCRC() {
				t.Fatalf("frame %d: NextSummed %+v %v %08x, NextMatched %+v %v %08x", i, h2, err2, c.BodyCRC(), h3, err3, m.BodyCRC())
			}
			if (err1 == nil) != (err2 == nil) || errors.Is(err1, ErrChecksum) != errors.Is(err2, ErrChecksum) {
				t.Fatalf("frame %d: Next %v, NextSummed %v", i, err1, err2)
			}
			if err1 != nil && !errors.Is(err1, ErrChecksum) {
				return
			}
			if h1 != h2 || a.BodyCRC() != c.BodyCRC() {
				t.Fatalf("frame %d: Next %+v %08x, NextSummed %+v %08x", i, h1, a.BodyCRC(), h2, c.BodyCRC())
			}
		}
	})
}
