package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func mkFrame(t testing.TB, h Header, bodyLen int) []byte {
	t.Helper()
	buf := make([]byte, HeaderLen+bodyLen)
	FillBody(buf[HeaderLen:], h.Seq)
	h.BodyLen = uint32(bodyLen)
	n, err := Seal(buf, h)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func TestRoundTrip(t *testing.T) {
	for _, typ := range []Type{TypeData, TypeEchoRequest, TypeEchoReply, TypeControl, TypeFin} {
		for _, size := range []int{0, 1, 24, 1360, 65535, MaxFrameSize - HeaderLen} {
			h := Header{Type: typ, Flags: 0xA5A5, Cookie: 0xDEADBEEFCAFEF00D, Seq: 1<<32 + 7, Timestamp: -12345, BodyLen: uint32(size)}
			b := mkFrame(t, h, size)
			got, body, err := Decode(b, 0)
			if err != nil {
				t.Fatalf("%s/%d: %v", typ, size, err)
			}
			if got != h {
				t.Fatalf("%s/%d: header %+v, want %+v", typ, size, got, h)
			}
			if !CheckBody(body, h.Seq) || len(body) != size {
				t.Fatalf("%s/%d: body mismatch", typ, size)
			}
		}
	}
}

func TestEncodeCopiesBody(t *testing.T) {
	body := []byte("hello, netduel")
	dst := make([]byte, 100)
	n, err := Encode(dst, Header{Type: TypeControl, BodyLen: 999}, body)
	if err != nil {
		t.Fatal(err)
	}
	h, got, err := Decode(dst[:n], 0)
	if err != nil || !bytes.Equal(got, body) || h.BodyLen != uint32(len(body)) {
		t.Fatalf("Decode = %+v %q %v", h, got, err)
	}
	if _, err := Encode(dst[:HeaderLen+3], Header{Type: TypeControl}, body); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short dst: %v, want ErrShortBuffer", err)
	}
	if _, err := Seal(make([]byte, 50), Header{Type: TypeData, BodyLen: 11}); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short Seal: %v, want ErrShortBuffer", err)
	}
	if _, err := Seal(make([]byte, 50), Header{Type: TypeData, BodyLen: MaxFrameSize}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge Seal: %v, want ErrTooLarge", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := mkFrame(t, Header{Type: TypeData, Cookie: 9, Seq: 3}, 100)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name     string
		b        []byte
		maxFrame int
		want     error
		header   bool // the header is returned with the error
	}{
		{"empty", nil, 0, ErrShort, false},
		{"short", good[:39], 0, ErrShort, false},
		{"magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), 0, ErrMagic, false},
		{"version", mut(func(b []byte) []byte { b[2] = 2; return b }), 0, ErrVersion, false},
		{"type 0", mut(func(b []byte) []byte { b[3] = 0; return b }), 0, ErrType, false},
		{"type 6", mut(func(b []byte) []byte { b[3] = 6; return b }), 0, ErrType, false},
		{"reserved", mut(func(b []byte) []byte { b[7] = 1; return b }), 0, ErrReserved, false},
		{"over caller limit", good, 139, ErrTooLarge, false},
		{"at caller limit", good, 140, nil, true},
		{"over hard limit", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[32:], MaxFrameSize); return b }), 0, ErrTooLarge, false},
		{"truncated", good[:120], 0, ErrLength, false},
		{"trailing", append(append([]byte(nil), good...), 0), 0, ErrLength, false},
		{"flipped header bit", mut(func(b []byte) []byte { b[20] ^= 4; return b }), 0, ErrChecksum, true},
		{"flipped body bit", mut(func(b []byte) []byte { b[90] ^= 1; return b }), 0, ErrChecksum, true},
		{"flipped crc bit", mut(func(b []byte) []byte { b[37] ^= 0x80; return b }), 0, ErrChecksum, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := Decode(tc.b, tc.maxFrame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var fe *Error
			if tc.want != nil && !errors.As(err, &fe) {
				t.Fatalf("err %T is not a *frame.Error", err)
			}
			if tc.header && h.Type != TypeData {
				t.Fatalf("header not returned: %+v", h)
			}
		})
	}
}

func TestBodyPattern(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 65535, 65536, 65537, 200000} {
		b := make([]byte, n)
		FillBody(b, 42)
		if !CheckBody(b, 42) {
			t.Fatalf("len %d: own pattern rejected", n)
		}
		if n < 8 {
			continue
		}
		if CheckBody(b, 43) {
			t.Errorf("len %d: accepted for another seq", n)
		}
		b[n/2] ^= 1
		if CheckBody(b, 42) {
			t.Errorf("len %d: accepted a flipped bit", n)
		}
		b[n/2] ^= 1
		shifted := make([]byte, n)
		copy(shifted[1:], b)
		shifted[0] = b[n-1]
		if CheckBody(shifted, 42) {
			t.Errorf("len %d: accepted a one-byte shift", n)
		}
	}
	a, b := make([]byte, 64), make([]byte, 64)
	FillBody(a, 1)
	FillBody(b, 2)
	if bytes.Equal(a, b) {
		t.Fatal("consecutive sequence numbers give the same body")
	}
}

func TestTypeString(t *testing.T) {
	if TypeEchoReply.String() != "echo-reply" || Type(77).String() != "type(77)" {
		t.Fatal(TypeEchoReply.String(), Type(77).String())
	}
}

func TestPatternCRCAndStrip(t *testing.T) {
	for _, n := range []int{0, 1, 24, 1360, 65536, 131032} {
		strip := NewPatternStrip(n)
		body := make([]byte, n)
		for _, seq := range []uint64{0, 1, 250, 251, 1 << 40} {
			FillBody(body, seq)
			if !bytes.Equal(strip.Body(seq), body) {
				t.Fatalf("n %d seq %d: strip body differs from FillBody", n, seq)
			}
			if PatternCRC(n, seq) != BodyCRC(body) {
				t.Fatalf("n %d seq %d: PatternCRC differs from BodyCRC", n, seq)
			}
			// A frame sealed from the header alone decodes with the body appended.
			hdr := make([]byte, HeaderLen)
			h := Header{Type: TypeData, Cookie: 3, Seq: seq, BodyLen: uint32(n)}
			if err := SealHeader(hdr, h, PatternCRC(n, seq)); err != nil {
				t.Fatal(err)
			}
			got, gb, err := Decode(append(hdr, strip.Body(seq)...), 0)
			if err != nil || got != h || !CheckBody(gb, seq) {
				t.Fatalf("n %d seq %d: %v %+v", n, seq, err, got)
			}
		}
	}
	if err := SealHeader(make([]byte, 10), Header{}, 0); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short header buffer: %v", err)
	}
}

// TestPatternCRCCache: the cache gives BodyCRC of the pattern body for every
// length and offset, asked for once or again, through slot collisions, and
// above the lengths it keys; a length never asked for before allocates
// nothing (the old cache made a body of that length and a table of all 251
// offsets' CRCs, kept for good: a peer varying its frame lengths cost the
// server 251 CRC passes per frame, and memory without bound).
func TestPatternCRCCache(t *testing.T) { // not parallel: AllocsPerRun
	body := make([]byte, patternKeyed+70)
	check := func(n int, seq uint64) {
		FillBody(body[:n], seq)
		if got, want := PatternCRC(n, seq), BodyCRC(body[:n]); got != want {
			t.Fatalf("n %d seq %d: PatternCRC %08x, BodyCRC %08x", n, seq, got, want)
		}
	}
	for round := 0; round < 2; round++ { // the second round reads the cache (or recomputes an evicted slot)
		for n := 1; n < 5000; n += 37 {
			for seq := uint64(0); seq < 600; seq += 29 {
				check(n, seq)
			}
		}
	}
	check(patternKeyed, 7)
	check(patternKeyed+1, 7) // not keyed: computed every time
	check(patternKeyed+69, 250)
	if PatternCRC(0, 3) != BodyCRC(nil) || PatternCRC(-1, 3) != 0 {
		t.Fatal("empty body")
	}
	n := 100000
	if a := testing.AllocsPerRun(200, func() { n++; PatternCRC(n, uint64(n)) }); a != 0 {
		t.Fatalf("a new length allocated %.0f times, want 0", a)
	}
}
