package stats

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestRTTEncodeDecode: the encoded histogram (whole microseconds) gives back
// the summary to within its truncation, encodes again to the same bytes, and
// stays small.
func TestRTTEncodeDecode(t *testing.T) {
	t.Parallel()
	r := NewRTT()
	for i := range 100000 {
		r.Record(time.Duration(15+i%50)*time.Microsecond + time.Duration(i%997)*time.Nanosecond)
	}
	r.Record(40 * time.Millisecond)
	r.Record(2 * time.Minute) // clamped to 60 s
	enc := r.Encode()
	if enc == "" || len(enc) > 4096 {
		t.Fatalf("encoded histogram is %d bytes, want 1..4096", len(enc))
	}
	got, err := DecodeRTT(enc)
	if err != nil {
		t.Fatal(err)
	}
	gs, rs := got.Summary(), r.Summary()
	for _, q := range []struct {
		name      string
		got, want float64
	}{{"min", gs.Min, rs.Min}, {"p50", gs.P50, rs.P50}, {"p90", gs.P90, rs.P90}, {"p99", gs.P99, rs.P99}, {"p999", gs.P999, rs.P999}, {"max", gs.Max, rs.Max}} {
		if q.got > q.want*1.001 || q.got < q.want*0.999-1 {
			t.Errorf("decoded %s %v, recorded %v: want it truncated to whole µs", q.name, q.got, q.want)
		}
	}
	if gs.Count != rs.Count {
		t.Errorf("decoded count %d, want %d", gs.Count, rs.Count)
	}
	if again := got.Encode(); again != enc {
		t.Error("a decoded histogram does not encode to the same bytes")
	}
	a := got.CDF()
	if len(a) < 50 {
		t.Fatalf("CDF of %d points, want >= 50", len(a))
	}
	if last := a[len(a)-1]; last.Fraction != 1 || last.US < 59e6 {
		t.Errorf("last CDF point %+v, want fraction 1 at 60 s", last)
	}
	if NewRTT().Encode() != "" {
		t.Error("an empty histogram must encode as \"\"")
	}
}

// TestRTTCDFSteps: one point per non-empty bucket, fractions rising to 1.
func TestRTTCDFSteps(t *testing.T) {
	t.Parallel()
	r := NewRTT()
	for _, us := range []int{10, 10, 20, 30, 30, 30} {
		r.Record(time.Duration(us) * time.Microsecond)
	}
	want := []CDFPoint{{10, 2.0 / 6}, {20, 3.0 / 6}, {30, 1}}
	got := r.CDF()
	if len(got) != len(want) {
		t.Fatalf("CDF %+v, want %+v", got, want)
	}
	for i := range want { // a bucket's highest value: within 0.1% above
		if got[i].Fraction != want[i].Fraction || got[i].US < want[i].US || got[i].US > want[i].US*1.001 {
			t.Errorf("point %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if NewRTT().CDF() != nil {
		t.Error("an empty histogram has no CDF")
	}
}

// encodeHeader builds an encoded histogram whose header declares the given
// geometry (and no counts): what a hostile document could hold.
func encodeHeader(digits int32, lowest, highest int64) string {
	var hdr bytes.Buffer
	binary.Write(&hdr, binary.BigEndian, []int32{0x1c849303 | 0x10, 0, 0, digits})
	binary.Write(&hdr, binary.BigEndian, []int64{lowest, highest})
	binary.Write(&hdr, binary.BigEndian, float64(1))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(hdr.Bytes())
	zw.Close()
	var out bytes.Buffer
	binary.Write(&out, binary.BigEndian, []int32{0x1c849304 | 0x10, int32(z.Len())})
	out.Write(z.Bytes())
	return base64.StdEncoding.EncodeToString(out.Bytes())
}

// TestDecodeRTTHostile: whatever a document holds, DecodeRTT returns an error
// (never a panic, never a huge allocation) for anything but a round-trip
// histogram.
func TestDecodeRTTHostile(t *testing.T) {
	t.Parallel()
	wide := hdrhistogram.New(1, 1<<62, 5)
	wide.RecordValue(5)
	wideEnc, err := wide.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	good := NewRTT()
	good.Record(time.Millisecond)
	enc := good.Encode()
	for name, s := range map[string]string{
		"empty":            "",
		"not base64":       "%%%",
		"short":            "AAAA",
		"not zlib":         base64.StdEncoding.EncodeToString([]byte("\x1c\x84\x93\x14\x00\x00\x00\x04abcd")),
		"truncated":        enc[:len(enc)/2],
		"wide geometry":    string(wideEnc),
		"header 5 digits":  encodeHeader(5, 1, 60e6),
		"header huge high": encodeHeader(3, 1, 1<<62),
		"header negative":  encodeHeader(-1, 1, 60e6),
		"header low>high":  encodeHeader(3, 1000, 10),
		"too long":         strings.Repeat("A", maxEncodedRTT+4),
	} {
		if _, err := DecodeRTT(s); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

func FuzzDecodeRTT(f *testing.F) {
	r := NewRTT()
	r.Record(30 * time.Microsecond)
	f.Add(r.Encode())
	f.Add(encodeHeader(3, 1, 60e6))
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := DecodeRTT(s); err == nil {
			h.Summary()
			h.CDF()
		}
	})
}

// TestDecodeRTTWrapsCause: a histogram that is not base64 gives an error that
// wraps the decoder's (it used %v and lost the chain).
func TestDecodeRTTWrapsCause(t *testing.T) {
	t.Parallel()
	_, err := DecodeRTT("not base64!")
	var bad base64.CorruptInputError
	if !errors.As(err, &bad) {
		t.Fatalf("%v (%T) does not wrap base64's error", err, err)
	}
}
