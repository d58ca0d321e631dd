package frame

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"runtime"
	"testing"
	"testing/iotest"
)

func stream(t testing.TB, sizes ...int) ([]byte, []Header) {
	var b []byte
	var hs []Header
	for i, size := range sizes {
		h := Header{Type: TypeData, Cookie: 5, Seq: uint64(i), Timestamp: int64(i), BodyLen: uint32(size)}
		b = append(b, mkFrame(t, h, size)...)
		hs = append(hs, h)
	}
	return b, hs
}

func readAll(t *testing.T, rd *Reader, want []Header) error {
	t.Helper()
	for i, wh := range want {
		h, body, err := rd.Next()
		if err != nil {
			return err
		}
		if h != wh || !CheckBody(body, wh.Seq) {
			t.Fatalf("frame %d: %+v, want %+v", i, h, wh)
		}
	}
	_, _, err := rd.Next()
	return err
}

// streamCuts are the ways a stream may hand its bytes over: whole, one byte
// at a time, half of what is asked, or the last data with io.EOF.
var streamCuts = map[string]func(io.Reader) io.Reader{
	"whole":    func(r io.Reader) io.Reader { return r },
	"one byte": iotest.OneByteReader,
	"half":     iotest.HalfReader,
	"data+EOF": iotest.DataErrReader,
}

func TestReaderSplits(t *testing.T) {
	b, hs := stream(t, 24, 0, 1000, 131072, 24, 1<<20, 5)
	for name, wrap := range streamCuts {
		t.Run(name, func(t *testing.T) {
			rd := NewReader(wrap(bytes.NewReader(b)), 2<<20)
			if err := readAll(t, rd, hs); err != io.EOF {
				t.Fatalf("end: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderCorruptInTheMiddle(t *testing.T) {
	b, hs := stream(t, 100, 100, 100)
	b[HeaderLen+100+HeaderLen+50] ^= 0xFF // the second frame's body
	rd := NewReader(bytes.NewReader(b), 0)
	for i := range hs {
		h, _, err := rd.Next()
		if i == 1 {
			if !errors.Is(err, ErrChecksum) || h.Seq != 1 {
				t.Fatalf("frame 1: %v %+v, want ErrChecksum with its header", err, h)
			}
			continue
		}
		if err != nil || h.Seq != uint64(i) {
			t.Fatalf("frame %d: %v %+v", i, err, h)
		}
	}
	if _, _, err := rd.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestReaderErrors(t *testing.T) {
	b, _ := stream(t, 100)
	cases := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"empty", nil, 0, io.EOF},
		{"partial header", b[:10], 0, io.ErrUnexpectedEOF},
		{"partial body", b[:70], 0, io.ErrUnexpectedEOF},
		{"garbage", bytes.Repeat([]byte{0xAB}, 100), 0, ErrMagic},
		{"over limit", b, 139, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader(bytes.NewReader(tc.in), tc.max)
			_, _, err := rd.Next()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, _, err2 := rd.Next(); !errors.Is(err2, tc.want) {
				t.Fatalf("second call: %v, want the same error", err2)
			}
		})
	}
}

func TestReaderNeverAllocatesFromGarbage(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	junk := make([]byte, 1<<16)
	rng.Read(junk)
	// A valid-looking header announcing a huge body must not make the Reader
	// allocate it: the limit stops it first.
	h := mkFrame(t, Header{Type: TypeData}, 0)
	h[32], h[33], h[34], h[35] = 0x00, 0xFF, 0xFF, 0xFF
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rd := NewReader(io.MultiReader(bytes.NewReader(h), bytes.NewReader(junk)), 64<<10)
	_, _, err := rd.Next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<10 {
		t.Fatalf("allocated %d bytes for a frame announcing 16 MiB", grew)
	}
}

// TestReaderGrowsOnlyAsBytesArrive: a header claiming a large body must not make
// the Reader allocate that body before its bytes arrive (issue 11 item 1).
func TestReaderGrowsOnlyAsBytesArrive(t *testing.T) {
	const claimed = 4 << 20
	for _, sent := range []int{0, 1000, 100 << 10, 1 << 20, claimed - 1} {
		hdr := make([]byte, HeaderLen)
		putHeader(hdr, Header{Type: TypeData, BodyLen: claimed})
		in := append(hdr, make([]byte, sent)...)
		rd := NewReader(bytes.NewReader(in), 8<<20)
		if _, _, err := rd.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("sent %d of %d: err %v, want io.ErrUnexpectedEOF", sent, claimed, err)
		}
		if limit := max(initialBuffer, 2*(HeaderLen+sent)); len(rd.buf) > limit {
			t.Errorf("sent %d of a claimed %d bytes: buffer grew to %d, want at most %d", sent, claimed, len(rd.buf), limit)
		}
	}
}

func TestReaderSetMax(t *testing.T) {
	b, hs := stream(t, 100, 5000)
	rd := NewReader(bytes.NewReader(b), HeaderLen+1000)
	if h, _, err := rd.Next(); err != nil || h != hs[0] {
		t.Fatalf("first frame under the small limit: %+v, %v", h, err)
	}
	if _, _, err := rd.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("second frame over the small limit: %v, want ErrTooLarge", err)
	}
	rd = NewReader(bytes.NewReader(b), HeaderLen+1000)
	rd.Next()
	rd.SetMax(HeaderLen + 5000)
	if h, _, err := rd.Next(); err != nil || h != hs[1] {
		t.Fatalf("second frame after SetMax: %+v, %v", h, err)
	}
}

// TestGrowKeepsUnread: Grow enlarges the buffer without losing or reordering
// what was read ahead of the frame being decoded, and never shrinks it.
func TestGrowKeepsUnread(t *testing.T) {
	t.Parallel()
	var stream bytes.Buffer
	for i := range 8 {
		f := make([]byte, 300)
		FillBody(f[HeaderLen:], uint64(i))
		Seal(f, Header{Type: TypeData, Cookie: 7, Seq: uint64(i), BodyLen: 300 - HeaderLen})
		stream.Write(f)
	}
	for _, grow := range []int{0, 16, 1 << 10, 1 << 20} {
		r := NewReader(bytes.NewReader(stream.Bytes()), 0)
		for i := range 8 {
			if i == 3 {
				before := len(r.buf)
				r.Grow(grow)
				if len(r.buf) < max(before, grow) {
					t.Fatalf("Grow(%d): buffer %d bytes, was %d", grow, len(r.buf), before)
				}
			}
			h, err := r.NextMatched()
			if err != nil || h.Seq != uint64(i) || r.BodyCRC() != PatternCRC(300-HeaderLen, uint64(i)) {
				t.Fatalf("Grow(%d): frame %d: %+v, %v", grow, i, h, err)
			}
		}
	}
}

// TestReaderFrame: Frame is the whole frame Next returned, read a byte at a
// time or all at once, over frames of several sizes; an echo that rewrites
// its header in place over BodyCRC sends a valid frame with the request's
// body; there is none before the first frame, after a failed Next, or after
// Grow moved the buffer.
func TestReaderFrame(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 24, 1000, 70000}
	b, hs := stream(t, sizes...)
	for _, tc := range []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return bytes.NewReader(b) }},
		{"byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd := NewReader(tc.r(), 0)
			if rd.Frame() != nil {
				t.Fatal("a frame before the first Next")
			}
			off := 0
			for i, size := range sizes {
				h, body, err := rd.Next()
				if err != nil {
					t.Fatal(err)
				}
				f := rd.Frame()
				want := b[off : off+HeaderLen+size]
				off += len(want)
				if !bytes.Equal(f, want) {
					t.Fatalf("frame %d: Frame is not the frame read (%d bytes, want %d)", i, len(f), len(want))
				}
				if size > 0 && &f[HeaderLen] != &body[0] {
					t.Fatalf("frame %d: Frame does not hold the body Next returned", i)
				}
				h.Type = TypeEchoReply
				if err := SealHeader(f[:HeaderLen], h, rd.BodyCRC()); err != nil {
					t.Fatal(err)
				}
				gh, gb, err := Decode(f, 0)
				if err != nil || gh.Type != TypeEchoReply || gh.Seq != hs[i].Seq || !bytes.Equal(gb, want[HeaderLen:]) {
					t.Fatalf("frame %d rewritten in place: %+v, %v", i, gh, err)
				}
			}
			if _, _, err := rd.Next(); err != io.EOF {
				t.Fatalf("after the last frame: %v", err)
			}
			if rd.Frame() != nil {
				t.Fatal("a frame after a failed Next")
			}
		})
	}
	rd := NewReader(bytes.NewReader(b), 0)
	if _, _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	rd.Grow(1 << 20)
	if rd.Frame() != nil {
		t.Fatal("a frame after Grow moved the buffer")
	}
}
