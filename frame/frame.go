// Package frame owns netduel's wire format: a fixed 40-byte big-endian header
// followed by a body, protected by a CRC32C over both. It encodes and decodes
// frames into caller-provided buffers without allocating, reassembles frames from a
// byte stream (Reader, for TCP), and fills and verifies the deterministic body
// pattern that lets a receiver check a body without storing it. It is a leaf
// package: it imports nothing of netduel's. See docs/protocol.md for the layout.
package frame

import (
	"encoding/binary"
	"hash/crc32"
)

// Wire constants.
const (
	Magic        uint16 = 0x4E44 // "ND"
	Version      uint8  = 1
	HeaderLen           = 40
	MaxFrameSize        = 16 << 20 // hard upper bound on HeaderLen+BodyLen that any decoder accepts
)

// Type says what a frame carries.
type Type uint8

// Frame types.
const (
	TypeData        Type = 1 // throughput data
	TypeEchoRequest Type = 2 // a latency request, to be echoed
	TypeEchoReply   Type = 3 // the echo of a request: same sequence, body and size
	TypeControl     Type = 4 // control protocol message (JSON body)
	TypeFin         Type = 5 // end of a flow
)

// String names the type: "data", "echo-request", ...
func (t Type) String() string {
	switch t {
	case TypeData:
		return "data"
	case TypeEchoRequest:
		return "echo-request"
	case TypeEchoReply:
		return "echo-reply"
	case TypeControl:
		return "control"
	case TypeFin:
		return "fin"
	}
	return "type(" + itoa(uint64(t)) + ")"
}

func (t Type) valid() bool { return t >= TypeData && t <= TypeFin }

// Header is a frame's fixed header.
type Header struct {
	Type      Type
	Flags     uint16
	Cookie    uint64 // session cookie
	Seq       uint64 // per-session, per-test sequence number, starting at 0
	Timestamp int64  // sender's clock, ns (opaque to this package)
	BodyLen   uint32
}

// Field offsets in the header.
const (
	offMagic    = 0
	offVersion  = 2
	offType     = 3
	offFlags    = 4
	offReserved = 6
	offCookie   = 8
	offSeq      = 16
	offTime     = 24
	offBodyLen  = 32
	offCRC      = 36
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The frame CRC is the CRC32C of the body followed by the header's first 36
// bytes. Body first lets a sender reuse a body's CRC (the pattern repeats) and a
// receiver verify the pattern from the same pass (see BodyCRC, PatternCRC).

// BodyCRC returns the CRC32C of a body: the first stage of a frame's CRC.
func BodyCRC(body []byte) uint32 { return crc32.Checksum(body, castagnoli) }

// frameCRC completes a frame's CRC from its body's CRC and its header.
func frameCRC(bodyCRC uint32, hdr []byte) uint32 {
	return crc32.Update(bodyCRC, castagnoli, hdr[:offCRC])
}

func checksum(hdr, body []byte) uint32 { return frameCRC(BodyCRC(body), hdr) }

// Seal writes h and the CRC in place in buf, whose body bytes are already at
// buf[HeaderLen:HeaderLen+h.BodyLen]. It returns the frame's length. It does not
// allocate: this is the senders' hot path.
func Seal(buf []byte, h Header) (int, error) {
	n := HeaderLen + int(h.BodyLen)
	if n > MaxFrameSize {
		return 0, ErrTooLarge
	}
	if len(buf) < n {
		return 0, ErrShortBuffer
	}
	putHeader(buf[:HeaderLen], h)
	binary.BigEndian.PutUint32(buf[offCRC:], checksum(buf, buf[HeaderLen:n]))
	return n, nil
}

// SealHeader writes the header of a frame whose body is elsewhere (sent with
// writev, say) into hdr (HeaderLen bytes), given the body's CRC from BodyCRC or
// PatternCRC. It does not allocate.
func SealHeader(hdr []byte, h Header, bodyCRC uint32) error {
	if HeaderLen+int(h.BodyLen) > MaxFrameSize {
		return ErrTooLarge
	}
	if len(hdr) < HeaderLen {
		return ErrShortBuffer
	}
	putHeader(hdr[:HeaderLen], h)
	binary.BigEndian.PutUint32(hdr[offCRC:], frameCRC(bodyCRC, hdr))
	return nil
}

func putHeader(b []byte, h Header) {
	binary.BigEndian.PutUint16(b[offMagic:], Magic)
	b[offVersion] = Version
	b[offType] = byte(h.Type)
	binary.BigEndian.PutUint16(b[offFlags:], h.Flags)
	binary.BigEndian.PutUint16(b[offReserved:], 0)
	binary.BigEndian.PutUint64(b[offCookie:], h.Cookie)
	binary.BigEndian.PutUint64(b[offSeq:], h.Seq)
	binary.BigEndian.PutUint64(b[offTime:], uint64(h.Timestamp))
	binary.BigEndian.PutUint32(b[offBodyLen:], h.BodyLen)
}

// Encode writes a frame with h's fields and body into dst (BodyLen is set from
// len(body)) and returns its length. It does not allocate.
func Encode(dst []byte, h Header, body []byte) (int, error) {
	if HeaderLen+len(body) > MaxFrameSize {
		return 0, ErrTooLarge
	}
	if len(dst) < HeaderLen+len(body) {
		return 0, ErrShortBuffer
	}
	copy(dst[HeaderLen:], body)
	h.BodyLen = uint32(len(body))
	return Seal(dst, h)
}

// limit is the effective frame size limit for a caller's maxFrame.
func limit(maxFrame int) int {
	if maxFrame <= 0 || maxFrame > MaxFrameSize {
		return MaxFrameSize
	}
	return maxFrame
}

// ParseHeader validates and returns the header at the start of b: magic,
// version, type, reserved bits and the length against min(maxFrame, MaxFrameSize)
// (maxFrame <= 0 means MaxFrameSize). It does not check the CRC.
func ParseHeader(b []byte, maxFrame int) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	if binary.BigEndian.Uint16(b[offMagic:]) != Magic {
		return Header{}, ErrMagic
	}
	if b[offVersion] != Version {
		return Header{}, ErrVersion
	}
	h := Header{
		Type:      Type(b[offType]),
		Flags:     binary.BigEndian.Uint16(b[offFlags:]),
		Cookie:    binary.BigEndian.Uint64(b[offCookie:]),
		Seq:       binary.BigEndian.Uint64(b[offSeq:]),
		Timestamp: int64(binary.BigEndian.Uint64(b[offTime:])),
		BodyLen:   binary.BigEndian.Uint32(b[offBodyLen:]),
	}
	if !h.Type.valid() {
		return Header{}, ErrType
	}
	if binary.BigEndian.Uint16(b[offReserved:]) != 0 {
		return Header{}, ErrReserved
	}
	if uint64(h.BodyLen)+HeaderLen > uint64(limit(maxFrame)) {
		return Header{}, ErrTooLarge
	}
	return h, nil
}

// Decode decodes the single frame that b holds exactly (a UDP datagram) and
// returns its header and body (a subslice of b). On a CRC mismatch it returns the
// parsed header with ErrChecksum, so that callers can count corrupt frames. It
// never allocates.
func Decode(b []byte, maxFrame int) (Header, []byte, error) {
	h, body, _, err := DecodeCRC(b, maxFrame)
	return h, body, err
}

// DecodeCRC is Decode that also returns the body's CRC (see BodyCRC), computed
// while checking the frame, for a one-pass pattern check against PatternCRC.
func DecodeCRC(b []byte, maxFrame int) (Header, []byte, uint32, error) {
	h, err := ParseHeader(b, maxFrame)
	if err != nil {
		return h, nil, 0, err
	}
	n := HeaderLen + int(h.BodyLen)
	if len(b) != n {
		return Header{}, nil, 0, ErrLength
	}
	body := b[HeaderLen:n]
	bc := BodyCRC(body)
	if frameCRC(bc, b) != binary.BigEndian.Uint32(b[offCRC:]) {
		return h, body, bc, ErrChecksum
	}
	return h, body, bc, nil
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
