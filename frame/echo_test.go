package frame

import "testing"

// TestEchoRequests: each request decodes as an echo request of the
// session's cookie, its sequence number and a body the echo's checker
// accepts, at every size from a bare header up.
func TestEchoRequests(t *testing.T) {
	t.Parallel()
	for _, size := range []int{HeaderLen, 64, 1400, 65507} {
		e := NewEchoRequests(7, size)
		for seq := uint64(0); seq < 3; seq++ {
			b, sent, err := e.Next(seq)
			if err != nil || len(b) != size {
				t.Fatalf("size %d seq %d: %d bytes, %v", size, seq, len(b), err)
			}
			h, body, err := Decode(b, MaxFrameSize)
			if err != nil || h.Type != TypeEchoRequest || h.Cookie != 7 || h.Seq != seq || h.Timestamp != sent.UnixNano() || !CheckBody(body, seq) {
				t.Fatalf("size %d seq %d: %+v %v", size, seq, h, err)
			}
		}
	}
}
