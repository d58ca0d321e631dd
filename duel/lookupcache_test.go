package duel

import (
	"net"
	"testing"
	"time"

	"github.com/netduel/netduel/frame"
)

// TestEndedSessionsDatagramsUnanswered: once a UDP latency session has ended,
// an echo request with its cookie from the very source the server answered a
// moment before gets no reply (the UDP loop keeps its last lookup, which the
// session's end must undo), and the next honest client is served.
func TestEndedSessionsDatagramsUnanswered(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	addr := srv.Addr().String()
	spec := TestSpec{Proto: ProtoUDP, Test: TestLatency, Duration: 10 * time.Second, Size: 64}
	c, rd, w, err := openSession(t, "127.0.0.1", addr, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	seq := uint64(0)
	echoed := func(wait time.Duration) bool {
		b := make([]byte, 64)
		frame.FillBody(b[frame.HeaderLen:], seq)
		frame.Seal(b, frame.Header{Type: frame.TypeEchoRequest, Cookie: w.Cookie, Seq: seq, BodyLen: 64 - frame.HeaderLen})
		seq++
		if _, err := u.Write(b); err != nil {
			t.Fatal(err)
		}
		u.SetReadDeadline(time.Now().Add(wait))
		_, err := u.Read(make([]byte, 128))
		return err == nil
	}
	for i := range 3 {
		if !echoed(2 * time.Second) {
			t.Fatalf("request %d of the session: no reply", i)
		}
	}
	if _, err := finishSession(t, c, rd, w, seq); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); srv.Sessions() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the session was not removed after its result")
		}
	}
	if echoed(300 * time.Millisecond) {
		t.Error("an ended session's cookie was answered")
	}
	mustServe(t, srv)
}
