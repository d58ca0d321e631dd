package stats

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// maxEncodedRTT bounds an encoded histogram read from a document: ours are a
// few kilobytes at most.
const maxEncodedRTT = 1 << 20

// Encode returns the histogram in HdrHistogram's V2 compressed encoding, base64
// (the form of HdrHistogram's interval logs, which its tools read), or "" when
// nothing was recorded. Its values are whole microseconds (truncated), 1 µs to
// 60 s at 3 significant digits, whatever the resolution r recorded.
func (r *RTT) Encode() string {
	if r.Count() == 0 {
		return ""
	}
	h := r.h
	if r.unit != 1 {
		h = hdrhistogram.New(rttMinUS, rttMaxUS, 3)
		for _, b := range r.h.Distribution() {
			if b.Count > 0 {
				v := int64(float64(b.From) * r.unit)
				_ = h.RecordValues(min(max(v, rttMinUS), rttMaxUS), b.Count)
			}
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil { // only for an unknown version: not ours
		return ""
	}
	return string(b)
}

// DecodeRTT reads a histogram written by Encode, from an untrusted document:
// it refuses, with an error and without a large allocation, anything other than
// a round-trip histogram of netduel's shape (values up to an hour, at most 3
// significant digits).
func DecodeRTT(s string) (*RTT, error) {
	if s == "" {
		return nil, errors.New("empty histogram")
	}
	if len(s) > maxEncodedRTT {
		return nil, fmt.Errorf("histogram of %d bytes: more than %d", len(s), maxEncodedRTT)
	}
	if err := checkRTTHeader(s); err != nil {
		return nil, err
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, err
	}
	return &RTT{h: h, unit: 1}, nil
}

// checkRTTHeader looks at the geometry an encoded histogram declares before
// hdrhistogram.Decode allocates its counts: a hostile header could declare a
// range that needs hundreds of megabytes.
func checkRTTHeader(s string) error {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	if len(raw) < 8 {
		return errors.New("histogram: too short")
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	defer z.Close()
	var hdr struct {
		Cookie, PayloadLen, NormOffset, Digits int32
		Lowest, Highest                        int64
	}
	if err := binary.Read(io.LimitReader(z, 32), binary.BigEndian, &hdr); err != nil {
		return fmt.Errorf("histogram header: %w", err)
	}
	if hdr.Digits < 0 || hdr.Digits > 3 || hdr.Lowest > rttMinUS || hdr.Highest < rttMinUS || hdr.Highest > 60*rttMaxUS {
		return fmt.Errorf("histogram: %d significant digits from %d to %d µs is not a round-trip histogram (1 µs to 1 h, at most 3 digits)",
			hdr.Digits, hdr.Lowest, hdr.Highest)
	}
	return nil
}
