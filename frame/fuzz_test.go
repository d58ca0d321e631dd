package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func FuzzDecode(f *testing.F) {
	f.Add(mkFrame(f, Header{Type: TypeData, Cookie: 1, Seq: 2}, 24))
	f.Add(mkFrame(f, Header{Type: TypeControl}, 0))
	f.Add([]byte("ND\x01\x04garbage"))
	f.Add(make([]byte, HeaderLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, body, err := Decode(b, 1<<16)
		if err != nil {
			return
		}
		out := make([]byte, HeaderLen+len(body))
		n, err := Encode(out, h, body)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(out[:n], b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", out[:n], b)
		}
	})
}

func FuzzReader(f *testing.F) {
	s, _ := stream(f, 24, 0, 300)
	f.Add(s)
	f.Add(s[:50])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := NewReader(bytes.NewReader(b), 4096)
		for i := 0; i <= len(b)/HeaderLen+1; i++ {
			h, body, err := rd.Next()
			if err == nil && int(h.BodyLen) != len(body) {
				t.Fatalf("body %d bytes, header says %d", len(body), h.BodyLen)
			}
			if err != nil && !errors.Is(err, ErrChecksum) {
				if err == io.EOF && i == 0 && len(b) > 0 {
					t.Fatal("EOF on a non-empty stream")
				}
				return
			}
		}
		t.Fatal("the Reader returned more frames than the input can hold")
	})
}
