package frame

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

var sizes = []int{64, 1400, 128 << 10}

func BenchmarkSeal(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			buf := make([]byte, n)
			h := Header{Type: TypeData, BodyLen: uint32(n - HeaderLen)}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h.Seq = uint64(i)
				if _, err := Seal(buf, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := mkFrame(b, Header{Type: TypeData}, n-HeaderLen)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := Decode(f, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeater reads the same bytes for ever.
type repeater struct {
	b   []byte
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

func BenchmarkReader(b *testing.B) {
	for _, n := range []int{64, 128 << 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := mkFrame(b, Header{Type: TypeData}, n-HeaderLen)
			rd := NewReader(&repeater{b: bytes.Repeat(f, max(1, (64<<10)/n))}, 0)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := rd.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	_ = io.EOF
}

func BenchmarkFillBody(b *testing.B) {
	body := make([]byte, 128<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		FillBody(body, uint64(i))
	}
}

func BenchmarkCheckBody(b *testing.B) {
	body := make([]byte, 128<<10)
	FillBody(body, 7)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !CheckBody(body, 7) {
			b.Fatal("mismatch")
		}
	}
}
