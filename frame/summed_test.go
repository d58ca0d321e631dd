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
			t.Run(name, func(t *testing.T) {
				rd := NewReader(wrap(bytes.NewReader(in)), 2<<20)
				for i, wh := range hs {
					h, err := rd.NextSummed()
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
				if _, err := rd.NextSummed(); err != io.EOF {
					t.Fatalf("end: %v, want io.EOF", err)
				}
				if len(rd.buf) > initialBuffer {
					t.Fatalf("buffer grew to %d bytes for a %d-byte body", len(rd.buf), 1<<20)
				}
			})
		}
	}
	// Cut inside a body: unexpected EOF, for ever after.
	rd := NewReader(bytes.NewReader(b[:HeaderLen+10]), 0)
	if _, err := rd.NextSummed(); err != io.ErrUnexpectedEOF {
		t.Fatalf("cut body: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := rd.NextSummed(); err != io.ErrUnexpectedEOF {
		t.Fatalf("after the error: %v", err)
	}
}

// FuzzNextSummed: on any input the streamed read agrees with Next.
func FuzzNextSummed(f *testing.F) {
	s, _ := stream(f, 24, 0, 300)
	f.Add(s)
	f.Add(s[:50])
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := NewReader(bytes.NewReader(b), 4096), NewReader(iotest.HalfReader(bytes.NewReader(b)), 4096)
		for i := 0; i <= len(b)/HeaderLen+1; i++ {
			h1, _, err1 := a.Next()
			h2, err2 := c.NextSummed()
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
