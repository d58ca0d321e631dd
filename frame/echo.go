package frame

import "time"

// EchoRequests builds a latency test's echo requests in one reused buffer:
// the part of the ping-pong clients (TCP and UDP) that does not depend on the
// transport.
type EchoRequests struct {
	buf []byte
	h   Header
}

// NewEchoRequests returns a builder of size-byte requests (header included)
// for a session's cookie; size is at least HeaderLen.
func NewEchoRequests(cookie uint64, size int) *EchoRequests {
	size = max(size, HeaderLen)
	return &EchoRequests{buf: make([]byte, size), h: Header{Type: TypeEchoRequest, Cookie: cookie, BodyLen: uint32(size - HeaderLen)}}
}

// Next fills and seals request seq, stamped with the time it returns (when
// it is sent), and returns it; the buffer is reused by the next call.
func (e *EchoRequests) Next(seq uint64) ([]byte, time.Time, error) {
	FillBody(e.buf[HeaderLen:], seq)
	sent := time.Now()
	e.h.Seq, e.h.Timestamp = seq, sent.UnixNano()
	if _, err := Seal(e.buf, e.h); err != nil {
		return nil, sent, err
	}
	return e.buf, sent, nil
}
