package tcp

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
	"github.com/netduel/netduel/stack"
)

// TestPingPongRepliesOfAnotherSize: a hostile server's reply with the right
// sequence number and a body of the pattern, but shorter or longer than the
// request's, is no echo: the test ends with an error naming the sizes and
// counts it corrupt, and records no round trip (the size was not checked:
// an empty-bodied reply counted as a round trip of the full size).
// TestPingPongBadReplies: a hostile server's reply of another size, of
// another request or with a bad CRC ends the test with an error, counts no
// round trip, and counts the request sent and its reply corrupt.
func TestPingPongBadReplies(t *testing.T) {
	t.Parallel()
	const cookie, size = 7, 128
	for _, tc := range []struct {
		name   string
		body   int    // the reply's body bytes (the request's: size - HeaderLen)
		seq    uint64 // the reply's sequence number (the request's: 0)
		mangle bool   // flip a body bit after sealing: a CRC mismatch
		want   string
	}{
		{"empty", 0, 0, false, "body (0 bytes) does not match the request's (88)"},
		{"short", 20, 0, false, "body (20 bytes) does not match the request's (88)"},
		{"long", 200, 0, false, "reading echo reply 0"}, // over the frame limit the client reads with
		{"other request", 88, 5, false, "while waiting for echo reply 0"},
		{"bad crc", 88, 0, true, "CRC32C mismatch"},
	} {
		for _, wait := range []string{stack.WaitBlocking, stack.WaitBusyPoll, stack.WaitNetpoller} {
			t.Run(tc.name+"/"+wait, func(t *testing.T) {
				t.Parallel()
				c, s := pair(t)
				go func() {
					buf := make([]byte, size)
					if _, err := io.ReadFull(s, buf); err != nil {
						return
					}
					body := make([]byte, tc.body)
					frame.FillBody(body, tc.seq)
					out := make([]byte, frame.HeaderLen+len(body))
					frame.Encode(out, frame.Header{Type: frame.TypeEchoReply, Cookie: cookie, Seq: tc.seq}, body)
					if tc.mangle {
						out[len(out)-1] ^= 1
					}
					s.Write(out)
					io.Copy(io.Discard, s)
				}()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				rep, rtt, err := PingPong(ctx, c, LatencyConfig{Cookie: cookie, Size: size, Duration: 2 * time.Second, Timeout: 2 * time.Second, Wait: wait})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if rep.Received != 0 || rtt.Count() != 0 {
					t.Fatalf("received %d, %d round trips recorded: a reply of another size counted", rep.Received, rtt.Count())
				}
				// The request went out and its reply was counted corrupt:
				// the report's sent covers it.
				if rep.Sent != 1 || rep.Corrupt != 1 || rep.Lost != 0 {
					t.Fatalf("sent %d, corrupt %d, lost %d; want 1, 1, 0", rep.Sent, rep.Corrupt, rep.Lost)
				}
			})
		}
	}
}
